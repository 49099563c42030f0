//! The typed results of `%c2d`: one struct per subcommand result, its JSON through serde
//! (schemas in docs/schema/results/c2d.*.schema.json), its text and HTML rendered from it.
//! The journal record a job result is made from is kept `#[serde(skip)]` for the renderings.

use crate::{Container, Failure, JobRecord, RemoteJob, ResultFile};
#[cfg(test)]
use kelp_magic::ResultSchema;
use kelp_magic::{MagicResult, Output, html_escape};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

/// A dataset of a job.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct JobDataset {
    /// Folder name under `/data/inputs/`.
    pub id: String,
    /// The source as the user named it (path, CID or DID).
    pub source: Option<String>,
}

/// The algorithm of a job.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct JobAlgorithm {
    pub source: Option<String>,
    pub container: Container,
}

/// The resources a job asked for.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct JobResources {
    pub cpu: u32,
    /// Bytes of memory.
    pub ram: u64,
    /// Bytes of outputs.
    pub disk: u64,
}

/// A C2D job (`%c2d status`, `%c2d start --wait`), shaped like Ocean Node's job status.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Job {
    pub job_id: String,
    /// Ocean's status code (e.g. 70 = finished).
    pub status: u16,
    pub status_text: String,
    /// Whether the job has ended (any way).
    pub finished: bool,
    /// Whether it ended well.
    pub ok: bool,
    pub failure: Option<Failure>,
    pub exit_code: Option<i32>,
    /// Unix seconds.
    pub date_created: f64,
    pub date_started: Option<f64>,
    pub date_finished: Option<f64>,
    /// Seconds run so far (ms precision).
    pub elapsed: f64,
    pub environment: String,
    pub datasets: Vec<JobDataset>,
    pub algorithm: JobAlgorithm,
    /// `algoCustomData.json`.
    pub params: Map<String, Value>,
    pub resources: JobResources,
    /// Wall-time limit in seconds.
    pub timeout: u64,
    pub results: Vec<ResultFile>,
    /// Limits the sandbox could not enforce here.
    pub limits: Vec<String>,
    /// The node the job runs on (DID sources).
    pub remote: Option<RemoteJob>,
    #[serde(skip)]
    pub rec: JobRecord,
}

impl Job {
    pub(crate) fn of(r: &JobRecord) -> Job {
        let s = &r.spec;
        Job {
            job_id: r.job_id.clone(),
            status: r.status.code(),
            status_text: r.status_text.clone(),
            finished: r.status.is_terminal(),
            ok: r.status.is_terminal() && !r.status.is_failure(),
            failure: r.failure.clone(),
            exit_code: r.exit_code,
            date_created: r.created,
            date_started: r.started,
            date_finished: r.finished,
            elapsed: (r.elapsed() * 1000.0).round() / 1000.0,
            environment: r.environment.clone(),
            datasets: s.datasets.iter().map(|d| JobDataset { id: d.id.clone(), source: d.source.clone() }).collect(),
            algorithm: JobAlgorithm { source: s.algorithm.source.clone(), container: s.algorithm.container.clone() },
            params: s.params.clone(),
            resources: JobResources { cpu: s.resources.cpu, ram: s.resources.ram, disk: s.resources.disk },
            timeout: s.timeout_secs,
            results: r.results.clone(),
            limits: r.limits.clone(),
            remote: r.remote.clone(),
            rec: r.clone(),
        }
    }
}

pub(crate) fn short(id: &str) -> &str {
    &id[..8.min(id.len())]
}

/// `job 1234abcd  70 Job finished  1.2 s — why`.
pub(crate) fn summary_line(r: &JobRecord) -> String {
    let why = r.failure.as_ref().map(|f| format!(" — {}", f.message)).unwrap_or_default();
    format!("job {}  {}  {:.1} s{why}", short(&r.job_id), r.status, r.elapsed())
}

impl MagicResult for Job {
    const SCHEMA: &'static str = "c2d.job";
    fn text(&self) -> String {
        let r = &self.rec;
        let mut text = format!("{}\n", summary_line(r));
        text.push_str(&format!("  id: {}\n", r.job_id));
        for d in &r.spec.datasets {
            text.push_str(&format!("  dataset {}: {}\n", d.id, d.source.clone().unwrap_or_default()));
        }
        text.push_str(&format!(
            "  algorithm: {} ({})\n",
            r.spec.algorithm.source.clone().unwrap_or_default(),
            r.spec.algorithm.container.entrypoint
        ));
        if let Some(rj) = &r.remote {
            text.push_str(&format!(
                "  runs on: {} ({}), node job {}, owner {}\n",
                rj.node_url, rj.backend, rj.job_id, rj.owner
            ));
        }
        for f in &r.results {
            text.push_str(&format!("  result {}: {} ({} bytes)\n", f.index, f.filename, f.filesize));
        }
        if self.ok {
            text.push_str(&format!("  fetch the outputs: %c2d result {}\n", short(&r.job_id)));
        }
        text
    }
    fn html(&self) -> Option<String> {
        let r = &self.rec;
        let colour = if r.status.is_failure() {
            "#b00020"
        } else if r.status.is_terminal() {
            "#1b5e20"
        } else {
            "#555"
        };
        Some(format!(
            "<div><b>C2D job</b> <code>{}</code> <span style=\"color:{colour}\">{}</span> ({:.1} s){}</div>",
            html_escape(&r.job_id),
            html_escape(&r.status.to_string()),
            r.elapsed(),
            r.failure.as_ref().map(|f| format!("<div>{}</div>", html_escape(&f.message))).unwrap_or_default()
        ))
    }
}

/// `%c2d start` without `--wait`: the job just started, with how to follow it as the first line
/// (in the result itself, so `kelp c2d start --json` prints the JSON alone on stdout).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Started {
    #[serde(flatten)]
    pub job: Job,
    #[serde(skip)]
    pub hint: String,
}

impl MagicResult for Started {
    const SCHEMA: &'static str = "c2d.start";
    fn text(&self) -> String {
        format!("{}\n{}", self.hint, self.job.text())
    }
    fn html(&self) -> Option<String> {
        Some(format!("<div>{}</div>{}", html_escape(&self.hint), self.job.html().unwrap_or_default()))
    }
}

/// `%c2d stop`: the job as it is now (the text says when it had already ended).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Stopped {
    #[serde(flatten)]
    pub job: Job,
    #[serde(skip)]
    pub already_ended: bool,
}

impl MagicResult for Stopped {
    const SCHEMA: &'static str = "c2d.stop";
    fn text(&self) -> String {
        if self.already_ended {
            return format!("job {} had already ended ({})\n", self.job.rec.job_id, self.job.rec.status);
        }
        self.job.text()
    }
    fn html(&self) -> Option<String> {
        self.job.html()
    }
}

/// `%c2d list`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct JobList {
    pub jobs: Vec<Job>,
}

impl MagicResult for JobList {
    const SCHEMA: &'static str = "c2d.list";
    fn text(&self) -> String {
        if self.jobs.is_empty() {
            return "no C2D jobs yet\n".into();
        }
        let line = |j: &Job| {
            let r = &j.rec;
            let algo = r.spec.algorithm.source.clone().unwrap_or_default();
            format!(
                "{}  {:<3} {:<28} {:>7.1} s  {algo}\n",
                short(&r.job_id),
                r.status.code(),
                r.status_text,
                r.elapsed()
            )
        };
        self.jobs.iter().map(line).collect()
    }
    fn html(&self) -> Option<String> {
        if self.jobs.is_empty() {
            return None;
        }
        let mut rows = String::new();
        for j in &self.jobs {
            let r = &j.rec;
            rows.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{:.1} s</td><td>{}</td></tr>",
                html_escape(short(&r.job_id)),
                html_escape(&r.status.to_string()),
                r.elapsed(),
                html_escape(&r.spec.algorithm.source.clone().unwrap_or_default())
            ));
        }
        Some(format!("<table><tr><th>job</th><th>status</th><th>time</th><th>algorithm</th></tr>{rows}</table>"))
    }
}

/// How a log result shows in the cell.
#[derive(Debug, Clone, Default)]
pub(crate) enum LogShown {
    /// The log as text (and `<pre>` HTML).
    #[default]
    Log,
    /// Already printed while following: the bundle is the JSON alone.
    Streamed,
    /// A note instead of the log (a remote job still running).
    Note(String),
}

/// `%c2d logs`: a job's algorithm log.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Logs {
    pub job_id: String,
    pub status: u16,
    /// The log; null while a remote job runs (its node hands it out at the end).
    pub log: Option<String>,
    /// Remote jobs followed with `-f`: whether the node streamed the log live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streamed: Option<bool>,
    #[serde(skip)]
    pub shown: LogShown,
}

impl MagicResult for Logs {
    const SCHEMA: &'static str = "c2d.logs";
    fn text(&self) -> String {
        match &self.shown {
            LogShown::Note(n) => n.clone(),
            _ => self.log.clone().unwrap_or_default(),
        }
    }
    fn html(&self) -> Option<String> {
        match &self.shown {
            LogShown::Log => Some(format!("<pre>{}</pre>", html_escape(self.log.as_deref().unwrap_or_default()))),
            _ => None,
        }
    }
    fn output(&self) -> Output {
        match self.shown {
            LogShown::Streamed => Output::empty().with_json(self.json()),
            _ => {
                let out = Output::text(self.text()).with_json(self.json());
                match self.html() {
                    Some(h) => out.with_html(h),
                    None => out,
                }
            }
        }
    }
}

/// `%c2d result`: the outputs unpacked into a local folder.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Fetched {
    pub job_id: String,
    pub status: u16,
    pub status_text: String,
    /// The folder (bound as a PathBuf).
    pub folder: String,
    /// Files under it, relative, sorted.
    pub files: Vec<String>,
    /// `algorithm.log` in it.
    pub log: String,
    /// `70 Job finished`.
    #[serde(skip)]
    pub status_line: String,
}

impl MagicResult for Fetched {
    const SCHEMA: &'static str = "c2d.result";
    fn text(&self) -> String {
        let mut text = format!(
            "job {} ({}): {} file(s) in {}\n",
            short(&self.job_id),
            self.status_line,
            self.files.len(),
            self.folder
        );
        for f in &self.files {
            text.push_str(&format!("  {f}\n"));
        }
        text
    }
    fn html(&self) -> Option<String> {
        Some(format!(
            "<div>results of job <code>{}</code> in <code>{}</code><ul>{}</ul></div>",
            html_escape(&self.job_id),
            html_escape(&self.folder),
            self.files.iter().map(|f| format!("<li><code>{}</code></li>", html_escape(f))).collect::<String>()
        ))
    }
}

/// One compute environment of `%c2d envs`: the environment's own fields (Ocean's
/// `ComputeEnvironment`: id, description, resources, maxJobDuration, …) and where it runs.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct EnvRow {
    #[serde(flatten)]
    pub env: Map<String, Value>,
    /// `local` (this machine's sandbox) or `node` (the network's Ocean node).
    #[serde(rename = "where")]
    pub place: String,
    /// The node's URL; null for local environments.
    pub node: Option<String>,
    /// The node's network (node environments only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
}

impl EnvRow {
    /// An environment's fields with `place`'s keys taken out (kelp's say where it runs).
    pub(crate) fn new(mut env: Map<String, Value>, node: Option<String>, network: Option<String>) -> EnvRow {
        for k in ["where", "node", "network"] {
            env.remove(k);
        }
        let place = if node.is_some() { "node" } else { "local" }.to_string();
        EnvRow { env, place, node, network }
    }

    /// `cpu 2, ram 7.8 GB, …` from `resources` (Ocean counts ram and disk in GB).
    fn resources_line(&self) -> String {
        let list = self.env.get("resources").and_then(Value::as_array).cloned().unwrap_or_default();
        let parts: Vec<String> = list
            .iter()
            .map(|r| {
                let id = r["id"].as_str().unwrap_or("?");
                let max = r["max"].as_f64().or_else(|| r["total"].as_f64()).unwrap_or(0.0);
                if id == "cpu" { format!("cpu {max}") } else { format!("{id} {max:.1} GB") }
            })
            .collect();
        parts.join(", ")
    }

    /// (runs on, id, resources, max duration, price, description)
    fn cells(&self) -> [String; 6] {
        let s = |k: &str| self.env.get(k).and_then(Value::as_str);
        let max = self.env.get("maxJobDuration").and_then(Value::as_u64);
        [
            self.node.clone().unwrap_or_else(|| "local".into()),
            s("id").unwrap_or("?").to_string(),
            self.resources_line(),
            max.map(|m| format!("{m} s")).unwrap_or_else(|| "?".into()),
            // A backend may name the price (`free`, `cpu 1 OCEAN/min`); local environments are free.
            s("price").unwrap_or("free").to_string(),
            s("description").unwrap_or("").to_string(),
        ]
    }
}

/// `%c2d envs`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Envs {
    pub environments: Vec<EnvRow>,
}

impl MagicResult for Envs {
    const SCHEMA: &'static str = "c2d.envs";
    fn text(&self) -> String {
        let line = |e: &EnvRow| {
            let [place, id, res, max, price, desc] = e.cells();
            format!("{place}  {id}  {res}  max {max}  {price}  {desc}\n")
        };
        self.environments.iter().map(line).collect()
    }
    fn html(&self) -> Option<String> {
        let rows: String = self
            .environments
            .iter()
            .map(|e| {
                let tds: String = e
                    .cells()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if i == 1 {
                            format!("<td><code>{}</code></td>", html_escape(c))
                        } else {
                            format!("<td>{}</td>", html_escape(c))
                        }
                    })
                    .collect();
                format!("<tr>{tds}</tr>")
            })
            .collect();
        Some(format!(
            "<table><tr><th>runs on</th><th>id</th><th>resources (max)</th><th>max duration</th><th>price</th><th>description</th></tr>{rows}</table>"
        ))
    }
}

/// Every `%c2d` result type's schema.
#[cfg(test)]
pub(crate) fn schemas() -> Vec<ResultSchema> {
    vec![
        ResultSchema::of::<Job>(),
        ResultSchema::of::<Started>(),
        ResultSchema::of::<Stopped>(),
        ResultSchema::of::<JobList>(),
        ResultSchema::of::<Logs>(),
        ResultSchema::of::<Fetched>(),
        ResultSchema::of::<Envs>(),
    ]
}

#[cfg(test)]
mod tests {
    /// The committed schemas are the types' (KELP_UPDATE_SCHEMA=1 regenerates them).
    #[test]
    fn result_schemas_are_committed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/results");
        kelp_magic::testing::check_result_schemas(&dir, "c2d", "kelp-c2d", &super::schemas());
    }
}
