//! The protobuf messages of a scalar event (`tensorflow/core/util/event.proto` and
//! `tensorflow/core/framework/summary.proto`), only the fields neurite writes; field numbers
//! as in those files.

/// `tensorflow.Event`: a time stamp, a step, and what happened.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The global step (or epoch) the event belongs to.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// The payload.
    #[prost(oneof = "What", tags = "3, 5")]
    pub what: Option<What>,
}

/// `Event.what`: the payloads neurite writes.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum What {
    /// The first event of a file: `brain.Event:2`.
    #[prost(string, tag = "3")]
    FileVersion(String),
    /// Summary values (scalars).
    #[prost(message, tag = "5")]
    Summary(Summary),
}

/// `tensorflow.Summary`: a list of tagged values.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// The values.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `tensorflow.Summary.Value` with a `simple_value` (a scalar).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryValue {
    /// The series name, e.g. `train_loss`.
    #[prost(string, tag = "1")]
    pub tag: String,
    /// The scalar.
    #[prost(float, optional, tag = "2")]
    pub simple_value: Option<f32>,
}

/// The file version TensorBoard expects in the first event.
pub const FILE_VERSION: &str = "brain.Event:2";

impl Event {
    /// The first event of every file.
    pub fn file_version(wall_time: f64) -> Event {
        Event {
            wall_time,
            step: 0,
            what: Some(What::FileVersion(FILE_VERSION.to_string())),
        }
    }

    /// One scalar `value` of series `tag` at `step`.
    pub fn scalar(tag: &str, value: f32, step: i64, wall_time: f64) -> Event {
        Event {
            wall_time,
            step,
            what: Some(What::Summary(Summary {
                value: vec![SummaryValue {
                    tag: tag.to_string(),
                    simple_value: Some(value),
                }],
            })),
        }
    }
}
