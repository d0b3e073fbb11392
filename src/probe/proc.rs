//! Readings from Linux /proc about this process: threads and their names,
//! open descriptors and what they point at, resident memory.

use std::fs;

use super::Resource;

/// Names of every thread (the kernel's 15-character `comm`).
pub fn thread_names() -> Vec<String> {
    let Ok(dir) = fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .flatten()
        .filter_map(|e| fs::read_to_string(e.path().join("comm")).ok())
        .map(|s| s.trim_end().to_string())
        .collect();
    names.sort();
    names
}

pub fn thread_count() -> u64 {
    fs::read_dir("/proc/self/task").map(|d| d.count() as u64).unwrap_or(0)
}

/// The target of every open descriptor, less the one used to list them.
pub fn fd_targets() -> Vec<String> {
    let Ok(dir) = fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    let mut out: Vec<String> = dir
        .flatten()
        .filter_map(|e| fs::read_link(e.path()).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    // the directory being listed is itself an open descriptor
    if let Some(at) = out.iter().position(|t| t.starts_with("/proc/") && t.ends_with("/fd")) {
        out.remove(at);
    }
    out.sort();
    out
}

/// Which descriptor row a target counts in.
pub fn kind(target: &str) -> Resource {
    if target.starts_with("socket:") {
        Resource::FdSockets
    } else if target.starts_with("pipe:") {
        Resource::FdPipes
    } else if target.starts_with('/') {
        Resource::FdFiles
    } else {
        Resource::FdOther
    }
}

pub fn rss_bytes() -> u64 {
    let Ok(statm) = fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf has no preconditions
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_thread_and_a_new_pipe_are_seen() {
        let pipes = || fd_targets().iter().filter(|t| kind(t) == Resource::FdPipes).count();
        let before = (thread_count(), pipes());
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (ready_tx, ready) = std::sync::mpsc::channel::<()>();
        let t = std::thread::Builder::new()
            .name("probe-test".into())
            .spawn(move || {
                // the name is set by the thread itself as it starts
                ready_tx.send(()).ok();
                rx.recv().ok()
            })
            .unwrap();
        ready.recv().unwrap();
        let mut fds = [0; 2];
        // SAFETY: fds is a valid two-element array
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        assert!(thread_names().iter().any(|n| n == "probe-test"));
        let after = pipes();
        assert!(after >= before.1 + 2, "{after} vs {}", before.1);
        tx.send(()).unwrap();
        t.join().unwrap();
        // SAFETY: both descriptors were opened above and are closed once
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        assert!(rss_bytes() > 0);
    }
}
