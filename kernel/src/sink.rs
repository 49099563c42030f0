//! The notebook's side of `kelp_magic::OutputSink`: a magic's stream text, displays and
//! display updates become iopub messages that are children of the running execute_request.

use crate::transport::IoPub;
use jupyter_protocol::JupyterMessage;
use kelp_magic::{Output, OutputSink, Stream};
use serde_json::json;

pub(crate) struct KernelSink {
    pub(crate) iopub: IoPub,
    pub(crate) parent: JupyterMessage,
}

/// `{"data": …, "metadata": {}, "transient": {"display_id": …}}` for display messages.
pub(crate) fn display_content(output: &Output, display_id: Option<&str>) -> serde_json::Value {
    let mut c = json!({ "data": output.to_mime_map(), "metadata": {} });
    if let Some(id) = display_id {
        c["transient"] = json!({ "display_id": id });
    }
    c
}

impl OutputSink for KernelSink {
    fn stream(&self, stream: Stream, text: &str) {
        let name = match stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        };
        self.iopub.send(&self.parent, "stream", json!({ "name": name, "text": text }));
    }
    fn display(&self, output: &Output, display_id: Option<&str>) {
        self.iopub.send(&self.parent, "display_data", display_content(output, display_id));
    }
    fn update_display(&self, output: &Output, display_id: &str) {
        self.iopub.send(&self.parent, "update_display_data", display_content(output, Some(display_id)));
    }
    fn clear_output(&self, wait: bool) {
        self.iopub.send(&self.parent, "clear_output", json!({ "wait": wait }));
    }
}
