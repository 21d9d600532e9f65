//! File access through the host root (`--root DIR`): every path the checks name is a host
//! path (`/etc/kubernetes/admin.conf`) resolved under the root, so tests run on temporary
//! directories and a privileged pod reads the host mounted at `/host`.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The host's file system, seen from a directory.
#[derive(Clone, Debug)]
pub struct Root {
    base: PathBuf,
    root_uid: u32,
    root_gid: u32,
}

/// The facts of a file the permission checks need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    /// Permission bits (`0o600`).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// A directory.
    pub is_dir: bool,
}

impl Root {
    /// The host seen from `base` (`/` on the host itself).
    pub fn new(base: impl Into<PathBuf>) -> Root {
        Root {
            base: base.into(),
            root_uid: 0,
            root_gid: 0,
        }
    }

    /// Treats another user and group as `root` (tests compare with the running uid).
    pub fn with_root_ids(mut self, uid: u32, gid: u32) -> Root {
        self.root_uid = uid;
        self.root_gid = gid;
        self
    }

    /// The directory the host is seen from.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// The uid and gid that count as `root`.
    pub fn root_ids(&self) -> (u32, u32) {
        (self.root_uid, self.root_gid)
    }

    /// Where a host path is under the root.
    pub fn path(&self, host: &str) -> PathBuf {
        self.base.join(host.trim_start_matches('/'))
    }

    /// Reads a host file as text.
    pub fn read(&self, host: &str) -> io::Result<String> {
        std::fs::read_to_string(self.path(host))
    }

    /// Reads a host file as bytes.
    pub fn read_bytes(&self, host: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.path(host))
    }

    /// Whether a host path exists.
    pub fn exists(&self, host: &str) -> bool {
        self.path(host).exists()
    }

    /// Mode and ownership of a host path (symbolic links followed).
    pub fn stat(&self, host: &str) -> io::Result<FileStat> {
        let m = std::fs::metadata(self.path(host))?;
        Ok(FileStat {
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
            is_dir: m.is_dir(),
        })
    }

    /// The entries of a host directory, as host paths, sorted (empty when unreadable).
    pub fn list(&self, dir: &str) -> Vec<String> {
        let Ok(rd) = std::fs::read_dir(self.path(dir)) else {
            return Vec::new();
        };
        let dir = dir.trim_end_matches('/');
        let mut out: Vec<String> = rd
            .filter_map(Result::ok)
            .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
            .collect();
        out.sort();
        out
    }

    /// Every path under a host directory, the directory included, depth first and sorted.
    pub fn walk(&self, dir: &str) -> Vec<String> {
        let mut out = Vec::new();
        if !self.exists(dir) {
            return out;
        }
        let mut stack = vec![dir.trim_end_matches('/').to_owned()];
        while let Some(d) = stack.pop() {
            let is_dir = std::fs::metadata(self.path(&d)).is_ok_and(|m| m.is_dir());
            out.push(d.clone());
            if is_dir && out.len() < 100_000 {
                let mut children = self.list(&d);
                children.reverse();
                stack.extend(children);
            }
        }
        out
    }

    /// The uid of a user name (`root` is the root uid), from `/etc/passwd` under the root.
    pub fn uid_of(&self, user: &str) -> Option<u32> {
        if user == "root" {
            return Some(self.root_uid);
        }
        self.id_from("/etc/passwd", user)
    }

    /// The gid of a group name (`root` is the root gid), from `/etc/group` under the root.
    pub fn gid_of(&self, group: &str) -> Option<u32> {
        if group == "root" {
            return Some(self.root_gid);
        }
        self.id_from("/etc/group", group)
    }

    fn id_from(&self, file: &str, name: &str) -> Option<u32> {
        let text = self.read(file).ok()?;
        text.lines().find_map(|l| {
            let mut parts = l.split(':');
            (parts.next()? == name).then_some(())?;
            parts.nth(1)?.parse().ok()
        })
    }

    /// A readable `user:group` for ids (names from the root's passwd and group files).
    pub fn owner_text(&self, uid: u32, gid: u32) -> String {
        let user = if uid == self.root_uid {
            "root".to_owned()
        } else {
            self.name_from("/etc/passwd", uid)
                .unwrap_or_else(|| uid.to_string())
        };
        let group = if gid == self.root_gid {
            "root".to_owned()
        } else {
            self.name_from("/etc/group", gid)
                .unwrap_or_else(|| gid.to_string())
        };
        format!("{user}:{group}")
    }

    fn name_from(&self, file: &str, id: u32) -> Option<String> {
        let text = self.read(file).ok()?;
        text.lines().find_map(|l| {
            let parts: Vec<&str> = l.split(':').collect();
            (parts.get(2)?.parse::<u32>().ok()? == id).then(|| parts[0].to_owned())
        })
    }
}
