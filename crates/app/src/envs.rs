//! Environments of the current project: add, list, remove; the status board
//! (every environment in order with its deployed version, drift and how far
//! it is behind); and the deployment history.

use crate::live::Expected;
use crate::{App, AppError, AppResult};
use serde::Serialize;
use tidemark_db::ConnectionSpec;
use tidemark_store::{Deployment, DeploymentStatus, Environment};

/// What `env add` takes besides the name and connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct EnvSettings {
    /// Only sealed snapshots may be deployed.
    #[serde(default)]
    pub require_snapshot: bool,
    /// Deployments go ahead even when the database drifted.
    #[serde(default)]
    pub allow_drift: bool,
    /// Needs a snapshot, a typed confirmation and `allow_breaking` for
    /// breaking statements.
    #[serde(default)]
    pub protected: bool,
    /// 0-based place in the promotion order; at the end when absent.
    #[serde(default)]
    pub position: Option<u32>,
    /// A colour for the board; by name (dev blue, test violet, prod orange)
    /// or from a palette when absent.
    #[serde(default)]
    pub color: Option<String>,
}

/// The default colour of an environment: the usual names get the usual
/// colours, others take turns through a palette by position.
fn default_color(name: &str, position: u32) -> String {
    let lower = name.to_ascii_lowercase();
    let by_name = match lower.as_str() {
        "dev" | "development" | "local" => Some("blue"),
        "test" | "qa" => Some("violet"),
        "stage" | "staging" | "preprod" => Some("teal"),
        "prod" | "production" | "live" => Some("orange"),
        _ => None,
    };
    const PALETTE: [&str; 5] = ["green", "teal", "pink", "yellow", "gray"];
    by_name
        .unwrap_or(PALETTE[position as usize % PALETTE.len()])
        .to_string()
}

/// One environment on the status board.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct EnvStatus {
    /// The environment.
    pub environment: Environment,
    /// The deployed version: what the database's marker names, or, when the
    /// database cannot be reached, what the workspace last deployed.
    pub version: Option<String>,
    /// When that version was deployed (RFC 3339).
    pub deployed_at: Option<String>,
    /// Who deployed it.
    pub deployed_by: Option<String>,
    /// `marker` (read from the database), `workspace` (the database was
    /// unreachable) or `none`.
    #[ts(type = "\"marker\" | \"workspace\" | \"none\"")]
    pub source: String,
    /// `clean`, `drifted` or `unknown` (unreachable).
    #[ts(type = "\"clean\" | \"drifted\" | \"unknown\"")]
    pub drift: String,
    /// How many drift items (and marker problems) were found.
    pub drift_items: usize,
    /// Why the drift state is `unknown`, or what is wrong with the marker.
    pub problem: Option<String>,
    /// How many snapshot versions this environment is behind its left
    /// neighbour (negative: ahead); `None` for the first environment or
    /// when either side has no known version.
    #[ts(type = "number | null")]
    pub behind_previous: Option<i64>,
    /// How many snapshot versions it is behind the project's latest.
    #[ts(type = "number | null")]
    pub behind_latest: Option<i64>,
}

/// The status board.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct StatusReport {
    /// The project.
    pub project: String,
    /// Its latest snapshot version.
    pub latest_version: Option<String>,
    /// Every environment in promotion order.
    pub environments: Vec<EnvStatus>,
}

impl App {
    /// Adds an environment to the current project (at the end of the order
    /// unless a position is given).
    pub fn env_add(
        &mut self,
        name: &str,
        connection: &str,
        settings: &EnvSettings,
    ) -> AppResult<Environment> {
        let name = name.trim();
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AppError::BadInput(format!(
                "environment name {name:?} is empty or has spaces: use a short name such as `prod`"
            )));
        }
        let project = self.ws.current_project()?;
        let c = self.ws.connection(connection)?;
        let spec = ConnectionSpec::parse(&c.url).map_err(|e| {
            AppError::Integrity(format!("stored connection {} is unreadable: {e}", c.name))
        })?;
        if !crate::marker::supported(spec.kind()) {
            return Err(AppError::BadInput(format!(
                "connection {connection} is {}: environments support PostgreSQL, MySQL/MariaDB and SQLite databases",
                spec.kind().product()
            )));
        }
        let count = self.ws.environments(&project.id)?.len() as u32;
        let position = settings.position.unwrap_or(count).min(count);
        let color = settings
            .color
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| default_color(name, position));
        let env = Environment {
            project_id: project.id.clone(),
            name: name.to_string(),
            connection: c.name,
            position,
            color,
            require_snapshot: settings.require_snapshot || settings.protected,
            allow_drift: settings.allow_drift,
            protected: settings.protected,
            created_at: self.now(),
        };
        self.ws
            .write(|tx| -> AppResult<Environment> { Ok(tx.add_environment(&env)?) })
    }

    /// The current project's environments in promotion order.
    pub fn env_list(&self) -> AppResult<Vec<Environment>> {
        let project = self.ws.current_project()?;
        Ok(self.ws.environments(&project.id)?)
    }

    /// Removes an environment; its deployment history stays.
    pub fn env_remove(&mut self, name: &str) -> AppResult<()> {
        let project = self.ws.current_project()?;
        self.ws
            .write(|tx| -> AppResult<()> { Ok(tx.remove_environment(&project.id, name)?) })
    }

    /// Every deployment attempt of the current project, newest first,
    /// optionally of one environment.
    pub fn history(&self, env: Option<&str>) -> AppResult<Vec<Deployment>> {
        let project = self.ws.current_project()?;
        if let Some(name) = env {
            self.ws.environment(&project.id, name)?;
        }
        Ok(self.ws.deployments(&project.id, env)?)
    }

    /// The status board: each environment's deployed version (from its
    /// marker), a drift check, and how far behind it is. An unreachable
    /// database does not fail the board; its row says why.
    pub fn env_status(&self) -> AppResult<StatusReport> {
        let project = self.ws.current_project()?;
        let versions: Vec<semver::Version> = self
            .ws
            .snapshots(&project.id)?
            .into_iter()
            .map(|s| s.version)
            .collect();
        let latest = versions.iter().max().cloned();
        let envs = self.ws.environments(&project.id)?;
        let mut rows: Vec<EnvStatus> = Vec::with_capacity(envs.len());
        for env in envs {
            rows.push(self.status_of(&project, env)?);
        }
        // How many snapshots lie between two versions, counted in the
        // project's list, so a skipped version still counts.
        let rank = |v: &Option<String>| -> Option<i64> {
            let v = semver::Version::parse(v.as_deref()?).ok()?;
            Some(versions.iter().filter(|x| **x <= v).count() as i64)
        };
        let latest_rank = latest.as_ref().map(|_| versions.len() as i64);
        for i in 0..rows.len() {
            let mine = rank(&rows[i].version);
            let mine_or_zero = if rows[i].version.is_none() {
                Some(0)
            } else {
                mine
            };
            rows[i].behind_latest = latest_rank.zip(mine_or_zero).map(|(l, m)| l - m);
            if i > 0 {
                let left = rank(&rows[i - 1].version);
                rows[i].behind_previous = left.zip(mine_or_zero).map(|(l, m)| l - m);
            }
        }
        Ok(StatusReport {
            project: project.name,
            latest_version: latest.map(|v| v.to_string()),
            environments: rows,
        })
    }

    fn status_of(
        &self,
        project: &tidemark_store::Project,
        env: Environment,
    ) -> AppResult<EnvStatus> {
        let mut row = EnvStatus {
            environment: env.clone(),
            version: None,
            deployed_at: None,
            deployed_by: None,
            source: "none".into(),
            drift: "unknown".into(),
            drift_items: 0,
            problem: None,
            behind_previous: None,
            behind_latest: None,
        };
        let live = self.env_context(&env.name).and_then(|ctx| {
            let naming = self.naming_state()?;
            let live = self.read_live(&ctx, Some(&naming))?;
            let report = self.drift_of(&ctx, &live);
            let expected = live.expected.clone();
            self.close_quietly(live.db);
            Ok((report?, expected))
        });
        match live {
            Ok((report, expected)) => {
                if let Some(m) = &report.marker {
                    row.version = Some(m.version.clone());
                    row.deployed_at = Some(m.deployed_at.clone());
                    row.deployed_by = Some(m.deployed_by.clone());
                    row.source = "marker".into();
                }
                row.drift = if report.drifted { "drifted" } else { "clean" }.into();
                row.drift_items = report.items.len() + usize::from(report.marker_problem.is_some());
                row.problem = report.marker_problem.clone();
                if let Expected::Unknown { reason, .. } = expected {
                    row.problem = Some(reason);
                }
            }
            // One environment that cannot be read must not hide the others.
            Err(e) => {
                row.problem = Some(e.to_string());
                let last =
                    self.ws
                        .last_deployment(&project.id, &env.name, DeploymentStatus::Succeeded)?;
                if let Some(d) = last {
                    row.version = Some(d.to_version);
                    row.deployed_at = d.finished_at.map(|t| t.to_rfc3339());
                    row.deployed_by = Some(d.deployed_by);
                    row.source = "workspace".into();
                }
            }
        }
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::default_color;

    #[test]
    fn usual_names_get_usual_colours() {
        assert_eq!(default_color("dev", 0), "blue");
        assert_eq!(default_color("test", 1), "violet");
        assert_eq!(default_color("PROD", 2), "orange");
        assert_eq!(default_color("sandbox", 0), "green");
    }
}
