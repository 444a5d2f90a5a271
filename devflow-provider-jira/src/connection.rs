//! `test_connection`: one call to `/rest/api/3/myself` and one to the project, and a
//! diagnosis a person can act on.

use devflow_sync_core::Error;
use devflow_sync_core::http::Method;
use devflow_sync_core::model::ConnectionId;
use serde::Serialize;
use serde_json::Value;

use crate::client::{JiraProvider, ProjectInfo};

/// What is wrong with a connection, if anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum Diagnosis {
    /// It works.
    Ok,
    /// The email, API token or OAuth token is not accepted.
    BadCredentials(String),
    /// The API token is past its expiry date.
    ExpiredToken(String),
    /// The URL or cloud id names no Jira site this account reaches.
    WrongSite(String),
    /// The OAuth grant lacks a scope.
    MissingScope(String),
    /// The project does not exist or the account cannot see it.
    ProjectNotFound(String),
    /// Jira could not be reached or answered with a server error.
    Unreachable(String),
}

/// The outcome of [`JiraProvider::test_connection`].
#[derive(Clone, Debug, Serialize)]
pub struct ConnectionCheck {
    /// What is wrong, if anything.
    pub diagnosis: Diagnosis,
    /// The account the credentials act as.
    pub account_id: Option<String>,
    /// Its display name.
    pub display_name: Option<String>,
    /// Its time zone (JQL times are read in it).
    pub time_zone: Option<String>,
    /// The project, when it was found.
    #[serde(skip)]
    pub project: Option<ProjectInfo>,
}

fn diagnose(e: &Error) -> Diagnosis {
    let text = e.to_string();
    match e {
        Error::Unauthenticated(m) if m.contains("expired") => Diagnosis::ExpiredToken(text),
        Error::Unauthenticated(_) | Error::NeedsReauth { .. } => Diagnosis::BadCredentials(text),
        Error::PermissionDenied(_) => Diagnosis::MissingScope(text),
        Error::NotFound(_) => Diagnosis::WrongSite(text),
        _ => Diagnosis::Unreachable(text),
    }
}

impl JiraProvider {
    /// Checks the credentials (`GET /rest/api/3/myself`) and the project, and says what
    /// is wrong: bad credentials, an expired API token, a wrong site, a missing scope, a
    /// project that is not there. Never fails: the diagnosis is the answer.
    pub async fn test_connection(&self, connection: &ConnectionId) -> ConnectionCheck {
        let mut check = ConnectionCheck {
            diagnosis: Diagnosis::Ok,
            account_id: None,
            display_name: None,
            time_zone: None,
            project: None,
        };
        let me = match self
            .call(connection, Method::GET, "/rest/api/3/myself", None)
            .await
        {
            Ok(r) => devflow_sync_core::api::parse_json::<Value>("Jira myself", &r.body),
            Err(e) => Err(e),
        };
        let me = match me {
            Ok(me) => me,
            Err(e) => {
                check.diagnosis = diagnose(&e);
                return check;
            }
        };
        let text = |k: &str| me.get(k).and_then(Value::as_str).map(str::to_owned);
        check.account_id = text("accountId");
        check.display_name = text("displayName");
        check.time_zone = text("timeZone");
        match self.project_info(connection).await {
            Ok(p) => check.project = Some(p),
            Err(Error::NotFound(m)) => {
                check.diagnosis = Diagnosis::ProjectNotFound(format!(
                    "project {} is not there or this account cannot see it ({m})",
                    self.config.project
                ));
            }
            Err(e) => check.diagnosis = diagnose(&e),
        }
        check
    }
}
