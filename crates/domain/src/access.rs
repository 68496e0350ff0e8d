//! Why a DNAnexus caller may not reach a container or an object copy.

use crate::ids::DxId;
use crate::permission::Level;

/// A refusal of access. What the caller cannot see is `NotFound`, exactly like what does not
/// exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessRefusal {
    NotFound(DxId),
    /// A container was wanted; the id names another class.
    NotAContainer(DxId),
    /// No file of the project may be downloaded (DNAnexus `downloadRestricted`).
    DownloadRestricted,
    /// The caller holds `held` in `container`; the method takes `needed`.
    LevelTooLow {
        needed: Level,
        held: Level,
        container: DxId,
    },
}
