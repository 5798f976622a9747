//! A TUN device (`/dev/net/tun`, `IFF_TUN | IFF_NO_PI`): one `read` is one IP packet from the
//! kernel's routing, one `write` injects one IP packet as if received on the device.
//!
//! Equals `ip tuntap add dev NAME mode tun` except that the device lives only while the file
//! descriptor is open (not persistent): a crashed tunnel leaves no device behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;

use crate::error::{Error, Result};

/// `TUNSETIFF`: `_IOW('T', 202, int)`.
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
/// Longest interface name (IFNAMSIZ − 1).
pub const MAX_NAME_LEN: usize = libc::IFNAMSIZ - 1;

/// An open TUN device.
#[derive(Debug)]
pub struct TunDevice {
    file: File,
    name: String,
}

impl TunDevice {
    /// Creates (or attaches to) TUN device `name`, non-blocking.
    pub fn create(name: &str) -> Result<TunDevice> {
        if name.is_empty() || name.len() > MAX_NAME_LEN || name.contains(['/', ' ', '\0']) {
            return Err(Error::Config(format!(
                "device name {name:?} must be 1..={MAX_NAME_LEN} characters without '/' or spaces"
            )));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/dev/net/tun")
            .map_err(|e| Error::io("open /dev/net/tun", e))?;
        // SAFETY: ifreq is plain old data; all-zero is a valid value.
        let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
        for (slot, byte) in request.ifr_name.iter_mut().zip(name.bytes()) {
            *slot = byte as libc::c_char;
        }
        request.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: TUNSETIFF reads and writes one ifreq we own, on a descriptor we own.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut request) };
        if rc != 0 {
            return Err(Error::io(
                format!("TUNSETIFF {name} (ip tuntap add dev {name} mode tun)"),
                std::io::Error::last_os_error(),
            ));
        }
        Ok(TunDevice {
            file,
            name: name.to_string(),
        })
    }

    /// The device name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads one packet (non-blocking: `WouldBlock` when none is queued).
    pub fn recv(&self, buffer: &mut [u8]) -> std::io::Result<usize> {
        (&self.file).read(buffer)
    }

    /// Writes one packet into the kernel as if it arrived on the device.
    pub fn send(&self, packet: &[u8]) -> std::io::Result<usize> {
        (&self.file).write(packet)
    }
}

impl AsRawFd for TunDevice {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}
