//! How the process ends, as a type: commands return one of these instead of bare integers.

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done (also "nothing found", kubectl's habit).
    Success,
    /// 1: the cluster refused, an object failed, a check did not hold.
    Failure,
    /// 2: arguments refused before anything was read.
    Usage,
    /// 130: the user stopped it (Ctrl-C, Esc, "no").
    Cancelled,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Cancelled => 130,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s.code())
    }
}
