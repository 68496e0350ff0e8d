//! `ferry user …` and `ferry token …`: the admin side of accounts. A new token is printed alone
//! on stdout so that `TOKEN=$(ferry user create alice)` works.

use crate::Failure;
use crate::cli::{StoreArgs, TokenCommand, UserCommand};
use crate::serve::open_store;
use chrono::{Duration, Utc};
use diesel::Connection;
use ferry_domain::ids::Username;
use ferry_domain::model::User;
use ferry_domain::row_ids::TokenRowId;
use ferry_store::{DbConnection, StoreError, tokens, users};

fn work(e: StoreError) -> Failure {
    Failure::Work(e.to_string())
}

fn parse_username(raw: &str) -> Result<Username, Failure> {
    Username::parse(raw).map_err(|e| Failure::Setup(e.to_string()))
}

fn existing_user(conn: &mut DbConnection, username: &Username) -> Result<User, Failure> {
    users::find_by_username(conn, username)
        .map_err(work)?
        .ok_or_else(|| Failure::Work(format!("no user named {username}")))
}

pub fn user(args: &StoreArgs, command: UserCommand) -> Result<(), Failure> {
    match command {
        UserCommand::Create {
            username,
            name,
            email,
            admin,
        } => {
            let username = parse_username(&username)?;
            let store = open_store(args)?;
            store.migrate().map_err(work)?;
            let mut conn = store.conn().map_err(work)?;
            let name = name.unwrap_or_else(|| username.to_string());
            // The user, their role and their first token exist together or not at all.
            let secret = conn
                .transaction(|conn| {
                    let user = users::create(conn, &username, &name, email.as_deref())?;
                    if admin {
                        users::set_admin(conn, user.id, true)?;
                    }
                    tokens::create(conn, user.id, Some("default"), None).map(|(_, secret)| secret)
                })
                .map_err(|e| match e {
                    StoreError::Conflict(_) => {
                        Failure::Work(format!("a user named {username} already exists"))
                    }
                    other => work(other),
                })?;
            println!("{secret}");
            Ok(())
        }
        UserCommand::Admin { username, revoke } => {
            let username = parse_username(&username)?;
            let store = open_store(args)?;
            store.migrate().map_err(work)?;
            let mut conn = store.conn().map_err(work)?;
            let user = existing_user(&mut conn, &username)?;
            users::set_admin(&mut conn, user.id, !revoke).map_err(work)?;
            if revoke {
                println!("{username} is no longer an administrator");
            } else {
                println!("{username} is an administrator");
            }
            Ok(())
        }
    }
}

pub fn token(args: &StoreArgs, command: TokenCommand) -> Result<(), Failure> {
    let store = open_store(args)?;
    store.migrate().map_err(work)?;
    let mut conn = store.conn().map_err(work)?;
    match command {
        TokenCommand::Create {
            username,
            label,
            expires_in,
        } => {
            let user = existing_user(&mut conn, &parse_username(&username)?)?;
            let expires_at = expires_in.map(|days| Utc::now() + Duration::days(days.into()));
            let (_, secret) =
                tokens::create(&mut conn, user.id, label.as_deref(), expires_at).map_err(work)?;
            println!("{secret}");
        }
        TokenCommand::List { username } => {
            let user = existing_user(&mut conn, &parse_username(&username)?)?;
            println!(
                "{:>6}  {:<20}  {:<8}  {:<20}  {:<20}  status",
                "id", "label", "ends", "created", "expires"
            );
            for t in tokens::list(&mut conn, user.id).map_err(work)? {
                let status = match (t.revoked_at, t.expires_at) {
                    (Some(_), _) => "revoked",
                    (None, Some(at)) if at <= Utc::now() => "expired",
                    _ => "active",
                };
                println!(
                    "{:>6}  {:<20}  …{:<7}  {:<20}  {:<20}  {status}",
                    t.id,
                    t.label.as_deref().unwrap_or("-"),
                    t.last4,
                    t.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
                    t.expires_at.map_or_else(
                        || "never".to_owned(),
                        |at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
                    ),
                );
            }
        }
        TokenCommand::Revoke { username, token_id } => {
            let user = existing_user(&mut conn, &parse_username(&username)?)?;
            tokens::revoke(&mut conn, user.id, TokenRowId::new(token_id)).map_err(|e| match e {
                StoreError::NotFound => {
                    Failure::Work(format!("{username} has no token with id {token_id}"))
                }
                other => work(other),
            })?;
            println!("revoked token {token_id}");
        }
    }
    Ok(())
}
