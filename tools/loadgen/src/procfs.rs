//! CPU time and memory of a process from Linux `/proc`: `utime + stime` from `/proc/PID/stat`,
//! `VmRSS` / `VmHWM` from `/proc/PID/status`.

use std::time::Duration;

/// Kernel clock ticks per second for `/proc/PID/stat` times. `USER_HZ` is 100 on every Linux
/// architecture we run on; reading `sysconf(_SC_CLK_TCK)` would need `libc` and `unsafe`.
const CLOCK_TICKS_PER_SEC: u64 = 100;

/// Which process to read: a PID or the loadgen itself.
#[derive(Debug, Clone, Copy)]
pub enum Proc {
    /// `/proc/self`.
    Current,
    /// `/proc/<pid>`.
    Pid(u32),
}

impl Proc {
    fn path(self, file: &str) -> String {
        match self {
            Proc::Current => format!("/proc/self/{file}"),
            Proc::Pid(pid) => format!("/proc/{pid}/{file}"),
        }
    }

    /// User + system CPU time used so far, or `None` if the process is gone (or not Linux).
    pub fn cpu_time(self) -> Option<Duration> {
        let text = std::fs::read_to_string(self.path("stat")).ok()?;
        let ticks = parse_stat_cpu_ticks(&text)?;
        Some(Duration::from_millis(ticks * 1000 / CLOCK_TICKS_PER_SEC))
    }

    /// `(VmRSS, VmHWM)` in bytes, or `None` if the process is gone.
    pub fn memory(self) -> Option<(u64, u64)> {
        let text = std::fs::read_to_string(self.path("status")).ok()?;
        Some((
            parse_status_kib(&text, "VmRSS")? * 1024,
            parse_status_kib(&text, "VmHWM")? * 1024,
        ))
    }
}

/// `utime + stime` (fields 14 and 15) of a `/proc/PID/stat` line, in clock ticks. The command
/// name (field 2) is in parentheses and may itself contain spaces and parentheses, so fields
/// are counted from the last `)`.
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    // `rest` starts at field 3 (state): utime is field 14, i.e. the 12th after the comm.
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The value of a `Key:   1234 kB` line of `/proc/PID/status`, in KiB.
pub fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        if k != key {
            return None;
        }
        v.split_ascii_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_hostile_command_name() {
        let stat = "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 1523 0 0 0 \
                    250 37 0 0 20 0 9 0 123456 1000000 2000 18446744073709551615";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(287));
        assert_eq!(parse_stat_cpu_ticks("garbage"), None);
        assert_eq!(parse_stat_cpu_ticks("1 (x) S 1 2"), None);
    }

    #[test]
    fn status_lines() {
        let status = "Name:\totlp2parquet\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(102_400));
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(204_800));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn own_process_is_readable() {
        let me = Proc::Current;
        assert!(me.cpu_time().is_some());
        let (rss, hwm) = me.memory().unwrap();
        assert!(rss > 0 && hwm >= rss);
    }
}
