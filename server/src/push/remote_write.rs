//! [`RemoteWritePush`]: Prometheus remote write 1.0 as a [`Push`] protocol; the body is
//! the core's (`Registry::encode_write_request`, `snappy_compress`).

use std::time::{SystemTime, UNIX_EPOCH};

use torchlight::{EncodeError, Registry, RemoteWrite, snappy_compress};

use super::error::PushError;
use super::pusher::Push;

/// The headers of a remote-write request (specification, "Protocol"); the pusher adds
/// the `User-Agent`.
const HEADERS: &[(&str, &str)] = &RemoteWrite::HEADERS;

/// Remote write 1.0: a snappy-compressed `WriteRequest` of the registry, with external
/// labels and, if asked, native histograms as such.
///
/// ```
/// use torchlight_smol::push::RemoteWritePush;
///
/// let push = RemoteWritePush::new().with_external_labels([("replica", "a")])?;
/// # let _ = push;
/// # Ok::<(), torchlight_smol::push::PushError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct RemoteWritePush {
    external_labels: Vec<(String, String)>,
    native_histograms: bool,
    /// The uncompressed request, kept between pushes.
    proto: Vec<u8>,
}

impl RemoteWritePush {
    /// Remote write without external labels, native histograms as classic ones.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Labels added to every series that has none of that name.
    ///
    /// # Errors
    ///
    /// [`PushError::Label`] when a name is not a label name, a value is empty or a name
    /// repeats (see [`RemoteWrite::with_external_labels`]).
    pub fn with_external_labels<N: Into<String>, V: Into<String>>(
        mut self,
        labels: impl IntoIterator<Item = (N, V)>,
    ) -> Result<Self, PushError> {
        self.external_labels = labels
            .into_iter()
            .map(|(n, v)| (n.into(), v.into()))
            .collect();
        let pairs = self.pairs();
        if let Err(error) = RemoteWrite::new(0).with_external_labels(&pairs) {
            return Err(PushError::Label {
                name: error.name.to_owned(),
                why: "an external label needs a label name ([a-zA-Z_][a-zA-Z0-9_]*, not \
                      starting with \"__\"), a non-empty value, and to be given once",
            });
        }
        Ok(self)
    }

    /// Sends native histograms as the protobuf's histograms (the receiver must accept
    /// them: Prometheus with `--enable-feature=native-histograms`).
    #[must_use]
    pub fn with_native_histograms(mut self, native: bool) -> Self {
        self.native_histograms = native;
        self
    }

    fn pairs(&self) -> Vec<(&str, &str)> {
        self.external_labels
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }
}

impl Push for RemoteWritePush {
    fn encode(
        &mut self,
        registry: &Registry,
        now: SystemTime,
        body: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let millis = now.duration_since(UNIX_EPOCH).map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        });
        let mut proto = std::mem::take(&mut self.proto);
        proto.clear();
        let pairs = self.pairs();
        // Checked in `with_external_labels`.
        let request = RemoteWrite::new(millis)
            .with_external_labels(&pairs)
            .unwrap_or(RemoteWrite::new(millis))
            .with_native_histograms(self.native_histograms);
        let result = registry
            .encode_write_request(&mut proto, &request)
            .and_then(|()| snappy_compress(&proto, body));
        drop(pairs);
        self.proto = proto;
        result
    }

    fn headers(&self) -> &'static [(&'static str, &'static str)] {
        HEADERS
    }
}
