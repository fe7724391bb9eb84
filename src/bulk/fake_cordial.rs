//! A fake Cordial for the tests of the scheduled sequences: account lists, attribute types,
//! and export and import jobs whose course each test sets (`Processing` for so many polls,
//! then `Done` or `Failed`). A finished activity export writes its files into the folder;
//! a finished import reads its file from there, as Cordial does over SFTP.

use crate::cordial::{HttpRequest, HttpResponse, Method};
use crate::ports::fakes::{FakeCordial, json_response};
use crate::testing::rate_limited;
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The SFTP folder Cordial and the job share (a `MemoryFiles`' map).
pub type Folder = Rc<RefCell<BTreeMap<String, Vec<u8>>>>;

/// How a job ends once its `Processing` polls are used up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Done,
    Failed(String),
}

/// One export or import job.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelJob {
    pub id: String,
    /// `ExportEvents` or `ImportContacts`.
    pub kind: &'static str,
    /// The export's `name` or the import's `importName`.
    pub name: String,
    pub body: Value,
    /// Polls still answered `Processing`.
    pub polls_left: u32,
    pub ending: Ending,
    /// An import's file as Cordial read it, line by line.
    pub imported_lines: Option<Vec<String>>,
    /// An export's files are written.
    pub exported: bool,
}

pub struct Model {
    pub jobs: Vec<ModelJob>,
    /// Polls a new job answers `Processing` before it ends.
    pub polls_before_end: u32,
    /// How new jobs end.
    pub ending: Ending,
    /// The next this-many requests are answered 429 with `Retry-After: 7`.
    pub rate_limited: u32,
    pub lists: Vec<String>,
    /// The answer of `GET /v2/accountcontactattributes`.
    pub attributes: Value,
    /// The files an activity export writes: name suffix after the export's name, bytes.
    pub export_files: Vec<(String, Vec<u8>)>,
    pub folder: Folder,
    /// The folder's absolute path on the server (`Remote::folder`), or the address the
    /// runtime serves it at (`Files::files_url`).
    pub root: String,
}

pub type SharedModel = Rc<RefCell<Model>>;

impl Model {
    pub fn new(folder: Folder, root: &str) -> SharedModel {
        Rc::new(RefCell::new(Model {
            jobs: Vec::new(),
            polls_before_end: 0,
            ending: Ending::Done,
            rate_limited: 0,
            lists: Vec::new(),
            attributes: json!([]),
            export_files: Vec::new(),
            folder,
            root: root.to_owned(),
        }))
    }

    pub fn jobs_of(&self, kind: &str) -> Vec<&ModelJob> {
        self.jobs.iter().filter(|j| j.kind == kind).collect()
    }

    fn answer(&mut self, r: &HttpRequest) -> HttpResponse {
        if self.rate_limited > 0 {
            self.rate_limited -= 1;
            return rate_limited("7");
        }
        let path = r.url.split_once("/v2/").map_or("", |(_, p)| p);
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let body = r.json_body().unwrap_or(Value::Null);
        match (r.method, route) {
            (Method::Get, "accountlists") => json_response(
                200,
                self.lists
                    .iter()
                    .enumerate()
                    .map(|(i, name)| json!({"id": i + 1, "name": name}))
                    .collect(),
            ),
            (Method::Post, "accountlists") => {
                self.lists.push(body["name"].as_str().unwrap().to_owned());
                json_response(201, json!({"id": self.lists.len()}))
            }
            (Method::Get, "accountcontactattributes") => {
                json_response(200, self.attributes.clone())
            }
            (Method::Post, "contactactivityexport") => self.start("ExportEvents", "name", body),
            (Method::Post, "contactimports") => self.start("ImportContacts", "importName", body),
            (Method::Get, "jobs") => {
                let kind = query
                    .split('&')
                    .find_map(|p| p.strip_prefix("jobName="))
                    .unwrap_or("");
                let listed: Vec<Value> = self
                    .jobs
                    .iter()
                    .filter(|j| j.kind == kind)
                    .map(|j| {
                        let key = if j.kind == "ImportContacts" {
                            "importName"
                        } else {
                            "name"
                        };
                        json!({"_id": j.id, "jobName": j.kind, "metadata": {key: j.name}})
                    })
                    .collect();
                json_response(200, Value::Array(listed))
            }
            (Method::Get, route) if route.starts_with("jobs/") => self.poll(&route[5..]),
            _ => json_response(
                404,
                json!({"error": true, "message": format!("no route {path}")}),
            ),
        }
    }

    fn start(&mut self, kind: &'static str, name_key: &str, body: Value) -> HttpResponse {
        let id = format!("job-{}", self.jobs.len() + 1);
        self.jobs.push(ModelJob {
            id: id.clone(),
            kind,
            name: body[name_key].as_str().unwrap().to_owned(),
            body,
            polls_left: self.polls_before_end,
            ending: self.ending.clone(),
            imported_lines: None,
            exported: false,
        });
        json_response(200, json!({"jobId": id}))
    }

    fn poll(&mut self, id: &str) -> HttpResponse {
        let Some(i) = self.jobs.iter().position(|j| j.id == id) else {
            return json_response(404, json!({"error": true, "message": "no such job"}));
        };
        if self.jobs[i].polls_left > 0 {
            self.jobs[i].polls_left -= 1;
            return json_response(200, json!({"_id": id, "status": "Processing"}));
        }
        if let Ending::Failed(message) = &self.jobs[i].ending {
            return json_response(
                200,
                json!({"_id": id, "status": "Failed", "message": message}),
            );
        }
        match self.jobs[i].kind {
            "ExportEvents" => {
                if !self.jobs[i].exported {
                    let mut folder = self.folder.borrow_mut();
                    for (suffix, bytes) in &self.export_files {
                        folder.insert(format!("{}{suffix}", self.jobs[i].name), bytes.clone());
                    }
                    self.jobs[i].exported = true;
                }
                json_response(200, json!({"_id": id, "status": "Done"}))
            }
            _ => {
                let source = &self.jobs[i].body["source"];
                let path = source["path"].as_str().or(source["url"].as_str()).unwrap();
                let name = path
                    .strip_prefix(&format!("{}/", self.root))
                    .expect("the file is in the job's folder");
                let Some(bytes) = self.folder.borrow().get(name).cloned() else {
                    let message = format!("Couldn't download the file ({path})");
                    return json_response(
                        200,
                        json!({"_id": id, "status": "Failed", "message": message}),
                    );
                };
                let lines: Vec<String> = String::from_utf8(bytes)
                    .unwrap()
                    .lines()
                    .map(str::to_owned)
                    .collect();
                let rows = lines.len() as u64 - 1;
                self.jobs[i].imported_lines.get_or_insert(lines);
                json_response(
                    200,
                    json!({"_id": id, "status": "Done", "result": {
                        "totalRecords": rows, "inserted": rows, "updated": 0, "rejected": 0, "error": 0
                    }}),
                )
            }
        }
    }
}

/// The transport of the fake: every request answered by `model`.
pub type Cordial = FakeCordial<Box<dyn FnMut(&HttpRequest) -> HttpResponse>>;

pub fn cordial(model: &SharedModel) -> Cordial {
    let model = model.clone();
    FakeCordial::new(Box::new(move |r: &HttpRequest| {
        model.borrow_mut().answer(r)
    }))
}
