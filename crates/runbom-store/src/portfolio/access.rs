//! Who may see what: teams and the applications they own (one owning team per application),
//! dashboard users (argon2id hashes made and checked by the server; the store keeps the PHC
//! string) and their teams, and server-side dashboard sessions keyed by the sha256 of the
//! cookie's random id, so a stolen copy of the store holds no usable cookie.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::QueryContext;
use crate::{Store, StoreError};

/// A team with what it owns and who is in it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TeamRecord {
    pub name: String,
    pub applications: Vec<String>,
    pub members: Vec<String>,
}

/// A dashboard user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub name: String,
    /// The PHC string of the password's argon2id hash.
    pub password_hash: String,
    pub admin: bool,
    pub teams: Vec<String>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

/// A live dashboard session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user: String,
    /// The token the session's forms carry (CSRF).
    pub csrf: String,
    pub expires_at: i64,
}

fn strings(rows: &[AnyRow]) -> Result<Vec<String>, sqlx::Error> {
    rows.iter().map(|row| row.try_get(0)).collect()
}

impl Store {
    /// Creates a team; false when it exists.
    pub async fn create_team(&self, name: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(now)
        .execute(self.pool())
        .await
        .doing("creating a team")?;
        Ok(done.rows_affected() > 0)
    }

    /// Every team with its applications and members, by name.
    pub async fn teams(&self) -> Result<Vec<TeamRecord>, StoreError> {
        let names = sqlx::query("SELECT name FROM teams ORDER BY name")
            .fetch_all(self.pool())
            .await
            .doing("listing teams")?;
        let mut teams = Vec::with_capacity(names.len());
        for name in strings(&names).doing("reading a team")? {
            let applications = self.team_applications(std::slice::from_ref(&name)).await?;
            let members = sqlx::query(
                "SELECT user_name FROM team_members WHERE team = $1 ORDER BY user_name",
            )
            .bind(&name)
            .fetch_all(self.pool())
            .await
            .doing("listing a team's members")?;
            teams.push(TeamRecord {
                name,
                applications,
                members: strings(&members).doing("reading a team member")?,
            });
        }
        Ok(teams)
    }

    /// Whether the team exists.
    pub async fn team_exists(&self, name: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT name FROM teams WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await
            .doing("looking up a team")?
            .is_some())
    }

    /// Makes `team` the owner of `app` (replacing its previous owner).
    pub async fn assign_application(&self, app: &str, team: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO team_applications (app, team) VALUES ($1, $2) \
             ON CONFLICT (app) DO UPDATE SET team = excluded.team",
        )
        .bind(app)
        .bind(team)
        .execute(self.pool())
        .await
        .doing("assigning an application to a team")?;
        Ok(())
    }

    /// The applications the teams own, sorted.
    pub async fn team_applications(&self, teams: &[String]) -> Result<Vec<String>, StoreError> {
        if teams.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT app FROM team_applications WHERE team IN ({}) ORDER BY app",
            crate::sql::list(1, teams.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for team in teams {
            query = query.bind(team);
        }
        let rows = query
            .fetch_all(self.pool())
            .await
            .doing("listing a team's applications")?;
        strings(&rows).doing("reading a team's application")
    }

    /// Creates a user; false when the name is taken.
    pub async fn create_user(
        &self,
        name: &str,
        password_hash: &str,
        admin: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO users (name, password_hash, admin, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(password_hash)
        .bind(i64::from(admin))
        .bind(now)
        .execute(self.pool())
        .await
        .doing("creating a user")?;
        Ok(done.rows_affected() > 0)
    }

    /// Puts a user in a team (nothing when already there).
    pub async fn add_team_member(&self, team: &str, user: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO team_members (team, user_name) VALUES ($1, $2) \
             ON CONFLICT (team, user_name) DO NOTHING",
        )
        .bind(team)
        .bind(user)
        .execute(self.pool())
        .await
        .doing("adding a team member")?;
        Ok(())
    }

    /// The user with this name, with their teams.
    pub async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT name, password_hash, admin, created_at, disabled_at FROM users WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await
        .doing("looking up a user")?
        else {
            return Ok(None);
        };
        let teams = sqlx::query("SELECT team FROM team_members WHERE user_name = $1 ORDER BY team")
            .bind(name)
            .fetch_all(self.pool())
            .await
            .doing("listing a user's teams")?;
        let read = |row: &AnyRow| -> Result<UserRecord, sqlx::Error> {
            Ok(UserRecord {
                name: row.try_get(0)?,
                password_hash: row.try_get(1)?,
                admin: row.try_get::<i64, _>(2)? != 0,
                teams: strings(&teams)?,
                created_at: row.try_get(3)?,
                disabled_at: row.try_get(4)?,
            })
        };
        read(&row).map(Some).doing("reading a user")
    }

    /// Every user's name, sorted.
    pub async fn user_names(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT name FROM users ORDER BY name")
            .fetch_all(self.pool())
            .await
            .doing("listing users")?;
        strings(&rows).doing("reading a user")
    }

    /// Stores a new session; expired sessions are dropped on the way.
    pub async fn create_session(
        &self,
        id_hash: &str,
        session: &SessionRecord,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await.doing("starting a session")?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .doing("dropping expired sessions")?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_name, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(&session.user)
        .bind(&session.csrf)
        .bind(now)
        .bind(session.expires_at)
        .execute(&mut *tx)
        .await
        .doing("storing a session")?;
        tx.commit().await.doing("committing a session")?;
        Ok(())
    }

    /// The session with this id hash, unless it expired by `now`.
    pub async fn session(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        sqlx::query(
            "SELECT user_name, csrf, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await
        .doing("looking up a session")?
        .map(|row| {
            Ok(SessionRecord {
                user: row.try_get(0)?,
                csrf: row.try_get(1)?,
                expires_at: row.try_get(2)?,
            })
        })
        .transpose()
        .doing("reading a session")
    }

    /// Ends a session (logout); false when there was none.
    pub async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.pool())
            .await
            .doing("ending a session")?;
        Ok(done.rows_affected() > 0)
    }
}
