# Sourced by the benchmarks: builds (once) the venv of >= 150 real PyPI distributions pinned in
# bench/inventory/requirements.txt, under bench/.work/ (delete it to rebuild). Sets $venv.
work=bench/.work
venv=$work/inventory-venv
mkdir -p "$work"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.done" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r bench/inventory/requirements.txt
  touch "$venv/.done"
fi
