"""The per-interpreter program: imports most of the standard library that every CPython from
3.8 to 3.13 has (a few hundred modules), whatever is installed, and exits."""
import sys

NAMES = """
argparse ast asyncio base64 bisect bz2 calendar cgi cmd code codecs collections
colorsys concurrent.futures configparser contextlib copy csv ctypes dataclasses datetime
decimal difflib dis doctest email email.mime.text email.parser ftplib functools getopt
gettext glob gzip hashlib heapq hmac html html.parser http.client http.cookies http.server
imaplib importlib.metadata inspect io ipaddress itertools json logging logging.handlers
lzma mailbox mimetypes multiprocessing numbers operator optparse pathlib pdb pickle
pkgutil platform plistlib poplib pprint profile pstats queue quopri random re sched
secrets selectors shelve shlex shutil signal smtplib socket socketserver sqlite3 ssl
statistics string struct subprocess sysconfig tarfile tempfile textwrap threading
timeit tokenize trace traceback types typing unittest unittest.mock urllib.parse
urllib.request uuid venv warnings wave weakref xml.dom.minidom xml.etree.ElementTree
xml.sax xmlrpc.client xmlrpc.server zipfile zipimport zlib
""".split()
for name in NAMES:
    try:
        __import__(name)
    except ImportError:
        pass
print(len(sys.modules))
