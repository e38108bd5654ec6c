//! Reading another process's memory without stopping it: `process_vm_readv`, which the kernel
//! allows to the process's own user (or `CAP_SYS_PTRACE`) under the same check as ptrace, but
//! with no ptrace stop — the target keeps running and is never changed. What is read is the
//! target's to choose, so callers treat every byte as hostile: [`Memory`] reads are bounded in
//! size and every one is counted against a budget, so that no walk of a corrupted structure can
//! read without end.

use std::cell::Cell;
use std::io::IoSliceMut;

/// The most one read may ask for.
pub const MAX_READ: usize = 1 << 20;

/// Why memory could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemoryError {
    #[error("address {address:#x} (+{len}) is not readable in the process")]
    Unreadable { address: u64, len: usize },
    #[error("the process is gone")]
    Gone,
    #[error(
        "not permitted to read the memory of process {pid} (it needs the same user or `CAP_SYS_PTRACE`)"
    )]
    Denied { pid: u32 },
    #[error("more than {budget} bytes read: the structures read do not end")]
    Budget { budget: u64 },
}

/// A process's address space, or an image of one.
pub trait Memory {
    /// Fills `buf` from `address`, wholly or not at all.
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), MemoryError>;

    fn read_u64(&self, address: u64) -> Result<u64, MemoryError> {
        let mut b = [0u8; 8];
        self.read(address, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn read_vec(&self, address: u64, len: usize) -> Result<Vec<u8>, MemoryError> {
        if len > MAX_READ {
            return Err(MemoryError::Unreadable { address, len });
        }
        let mut buf = vec![0u8; len];
        self.read(address, &mut buf)?;
        Ok(buf)
    }
}

/// The memory of a live process, read with `process_vm_readv`, at most `budget` bytes in all.
#[derive(Debug)]
pub struct LiveMemory {
    pid: u32,
    budget: u64,
    spent: Cell<u64>,
}

impl LiveMemory {
    pub fn new(pid: u32, budget: u64) -> Self {
        Self {
            pid,
            budget,
            spent: Cell::new(0),
        }
    }

    /// Bytes read so far.
    pub fn spent(&self) -> u64 {
        self.spent.get()
    }
}

impl Memory for LiveMemory {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), MemoryError> {
        use nix::errno::Errno;
        use nix::sys::uio::{RemoteIoVec, process_vm_readv};
        let len = buf.len();
        let unreadable = MemoryError::Unreadable { address, len };
        if len > MAX_READ || address.checked_add(len as u64).is_none() {
            return Err(unreadable);
        }
        let spent = self.spent.get() + len as u64;
        if spent > self.budget {
            return Err(MemoryError::Budget {
                budget: self.budget,
            });
        }
        self.spent.set(spent);
        if len == 0 {
            return Ok(());
        }
        let pid =
            nix::unistd::Pid::from_raw(i32::try_from(self.pid).map_err(|_| MemoryError::Gone)?);
        let remote = [RemoteIoVec {
            base: usize::try_from(address).map_err(|_| unreadable.clone())?,
            len,
        }];
        match process_vm_readv(pid, &mut [IoSliceMut::new(buf)], &remote) {
            Ok(n) if n == len => Ok(()),
            Ok(_) | Err(Errno::EFAULT) | Err(Errno::EIO) | Err(Errno::EINVAL) => Err(unreadable),
            Err(Errno::ESRCH) => Err(MemoryError::Gone),
            Err(Errno::EPERM) | Err(Errno::EACCES) => Err(MemoryError::Denied { pid: self.pid }),
            Err(_) => Err(unreadable),
        }
    }
}

/// An image of memory: regions of bytes at addresses (tests, and fuzzing the readers).
#[derive(Debug, Default, Clone)]
pub struct ImageMemory {
    regions: Vec<(u64, Vec<u8>)>,
}

impl ImageMemory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `bytes` at `address`.
    pub fn map(&mut self, address: u64, bytes: Vec<u8>) -> &mut Self {
        self.regions.push((address, bytes));
        self
    }
}

impl Memory for ImageMemory {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), MemoryError> {
        let unreadable = MemoryError::Unreadable {
            address,
            len: buf.len(),
        };
        for (start, bytes) in &self.regions {
            let Some(from) = address.checked_sub(*start) else {
                continue;
            };
            let Ok(from) = usize::try_from(from) else {
                continue;
            };
            if let Some(src) = from
                .checked_add(buf.len())
                .and_then(|to| bytes.get(from..to))
            {
                buf.copy_from_slice(src);
                return Ok(());
            }
        }
        Err(unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_and_refuses_what_is_not_mapped() {
        let value: u64 = 0x1122_3344_5566_7788;
        let boxed = Box::new(value);
        let address = std::ptr::from_ref::<u64>(&*boxed) as u64;
        let memory = LiveMemory::new(std::process::id(), 1 << 20);
        assert_eq!(memory.read_u64(address), Ok(value));
        assert!(matches!(
            memory.read_u64(8),
            Err(MemoryError::Unreadable { .. })
        ));
        assert_eq!(memory.spent(), 16);
    }

    #[test]
    fn a_process_gone_mid_read_is_gone() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let memory = LiveMemory::new(child.id(), 1 << 20);
        child.wait().unwrap();
        assert_eq!(memory.read_u64(0x1000), Err(MemoryError::Gone));
    }

    #[test]
    fn the_budget_bounds_what_is_read() {
        let memory = LiveMemory::new(std::process::id(), 8);
        let value = 7u64;
        let address = std::ptr::from_ref(&value) as u64;
        assert!(memory.read_u64(address).is_ok());
        assert_eq!(
            memory.read_u64(address),
            Err(MemoryError::Budget { budget: 8 })
        );
    }

    #[test]
    fn an_image_reads_inside_its_regions_only() {
        let mut image = ImageMemory::new();
        image.map(0x1000, vec![1, 2, 3, 4]);
        let mut two = [0u8; 2];
        assert!(image.read(0x1002, &mut two).is_ok());
        assert_eq!(two, [3, 4]);
        assert!(image.read(0x1003, &mut two).is_err());
        assert!(image.read(u64::MAX, &mut two).is_err());
    }
}
