//! Job status codes, numbered as Ocean Node numbers them (`src/@types/C2D/C2D.ts`), so a
//! client written for Ocean reads kelp's jobs unchanged.

use serde::{Deserialize, Serialize};

/// Where a job is. `code()` is Ocean Node's number; the text is kelp's own wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "u16", try_from = "u16")]
pub enum Status {
    JobStarted,
    JobQueued,
    JobQueuedExpired,
    PullImage,
    PullImageFailed,
    BuildImage,
    BuildImageFailed,
    VulnerableImage,
    ConfiguringVolumes,
    VolumeCreationFailed,
    ContainerCreationFailed,
    Provisioning,
    DataProvisioningFailed,
    AlgorithmProvisioningFailed,
    DataUploadFailed,
    RunningAlgorithm,
    AlgorithmFailed,
    DiskQuotaExceeded,
    FilteringResults,
    PublishingResults,
    ResultsFetchFailed,
    ResultsUploadFailed,
    JobFinished,
    JobSettle,
}

const ALL: [Status; 24] = [
    Status::JobStarted,
    Status::JobQueued,
    Status::JobQueuedExpired,
    Status::PullImage,
    Status::PullImageFailed,
    Status::BuildImage,
    Status::BuildImageFailed,
    Status::VulnerableImage,
    Status::ConfiguringVolumes,
    Status::VolumeCreationFailed,
    Status::ContainerCreationFailed,
    Status::Provisioning,
    Status::DataProvisioningFailed,
    Status::AlgorithmProvisioningFailed,
    Status::DataUploadFailed,
    Status::RunningAlgorithm,
    Status::AlgorithmFailed,
    Status::DiskQuotaExceeded,
    Status::FilteringResults,
    Status::PublishingResults,
    Status::ResultsFetchFailed,
    Status::ResultsUploadFailed,
    Status::JobFinished,
    Status::JobSettle,
];

impl Status {
    /// Ocean Node's status number.
    pub fn code(self) -> u16 {
        use Status::*;
        match self {
            JobStarted => 0,
            JobQueued => 1,
            JobQueuedExpired => 2,
            PullImage => 10,
            PullImageFailed => 11,
            BuildImage => 12,
            BuildImageFailed => 13,
            VulnerableImage => 14,
            ConfiguringVolumes => 20,
            VolumeCreationFailed => 21,
            ContainerCreationFailed => 22,
            Provisioning => 30,
            DataProvisioningFailed => 31,
            AlgorithmProvisioningFailed => 32,
            DataUploadFailed => 33,
            RunningAlgorithm => 40,
            AlgorithmFailed => 41,
            DiskQuotaExceeded => 42,
            FilteringResults => 50,
            PublishingResults => 60,
            ResultsFetchFailed => 61,
            ResultsUploadFailed => 62,
            JobFinished => 70,
            JobSettle => 71,
        }
    }

    /// The status for an Ocean Node number, if it is one.
    pub fn from_code(code: u16) -> Option<Status> {
        ALL.into_iter().find(|s| s.code() == code)
    }

    /// A short human description (Ocean's `statusText`).
    pub fn text(self) -> &'static str {
        use Status::*;
        match self {
            JobStarted => "Job started",
            JobQueued => "Job queued",
            JobQueuedExpired => "Job expired in the queue",
            PullImage => "Preparing the algorithm runtime",
            PullImageFailed => "Algorithm runtime unavailable",
            BuildImage => "Building the algorithm image",
            BuildImageFailed => "Building the algorithm image failed",
            VulnerableImage => "Algorithm image refused as vulnerable",
            ConfiguringVolumes => "Configuring volumes",
            VolumeCreationFailed => "Volume creation failed",
            ContainerCreationFailed => "Sandbox creation failed",
            Provisioning => "Provisioning data",
            DataProvisioningFailed => "Data provisioning failed",
            AlgorithmProvisioningFailed => "Algorithm provisioning failed",
            DataUploadFailed => "Data upload to the sandbox failed",
            RunningAlgorithm => "Running algorithm",
            AlgorithmFailed => "Algorithm failed",
            DiskQuotaExceeded => "Output size limit exceeded",
            FilteringResults => "Filtering results",
            PublishingResults => "Publishing results",
            ResultsFetchFailed => "Collecting the outputs failed",
            ResultsUploadFailed => "Storing the results failed",
            JobFinished => "Job finished",
            JobSettle => "Job settling",
        }
    }

    /// The job will not change any more.
    pub fn is_terminal(self) -> bool {
        self.is_failure() || matches!(self, Status::JobFinished | Status::JobSettle)
    }

    /// The job ended without a successful run (every `x1`…`x9` code of Ocean, plus 2 and 14).
    pub fn is_failure(self) -> bool {
        let c = self.code();
        c == 2 || (c >= 10 && !c.is_multiple_of(10) && c != 71)
    }

    /// Every status, in code order.
    pub fn all() -> [Status; 24] {
        ALL
    }
}

impl From<Status> for u16 {
    fn from(s: Status) -> u16 {
        s.code()
    }
}

impl TryFrom<u16> for Status {
    type Error = String;
    fn try_from(c: u16) -> Result<Self, String> {
        Status::from_code(c).ok_or_else(|| format!("unknown C2D status code {c}"))
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code(), self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_ocean_node() {
        let codes: Vec<u16> = Status::all().iter().map(|s| s.code()).collect();
        assert_eq!(
            codes,
            [0, 1, 2, 10, 11, 12, 13, 14, 20, 21, 22, 30, 31, 32, 33, 40, 41, 42, 50, 60, 61, 62, 70, 71]
        );
        for s in Status::all() {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        assert_eq!(Status::from_code(3), None);
    }

    #[test]
    fn failures_and_terminal() {
        assert!(Status::AlgorithmFailed.is_failure() && Status::AlgorithmFailed.is_terminal());
        assert!(Status::DiskQuotaExceeded.is_failure());
        assert!(Status::DataProvisioningFailed.is_failure());
        assert!(!Status::JobFinished.is_failure() && Status::JobFinished.is_terminal());
        assert!(!Status::JobSettle.is_failure() && Status::JobSettle.is_terminal());
        assert!(!Status::RunningAlgorithm.is_terminal() && !Status::JobQueued.is_terminal());
    }

    #[test]
    fn serialises_as_number() {
        assert_eq!(serde_json::to_string(&Status::AlgorithmFailed).unwrap(), "41");
        assert_eq!(serde_json::from_str::<Status>("70").unwrap(), Status::JobFinished);
        assert!(serde_json::from_str::<Status>("99").is_err());
    }
}
