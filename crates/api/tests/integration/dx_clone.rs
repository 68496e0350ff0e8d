//! `/project-xxxx/clone`, `/class-xxxx/listProjects` and `/project-xxxx/updateSponsorship`
//! over HTTP: the wire shapes, every input error, every refusal of the seed with its type and
//! status, and nothing written by a refused clone.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use ferry_domain::ids::{DxClass, DxId};
use ferry_domain::model::{Object, ObjectState, Project, User};
use ferry_domain::path::FolderPath;
use ferry_domain::permission::{Level, Permissions};
use ferry_store::objects::{self, NewDataObject};
use ferry_store::schema::{billing_groups, placements, projects};
use ferry_store::sponsorship::sponsor_by_operator;
use ferry_store::{folders, members};
use serde_json::{Map, Value, json};

use crate::support::{Ctx, Reply, assert_dx_error};
use ferry_testkit::{MemberBuilder, TestDb, backends};

/// Alice (token), her projects Source and Dest.
struct World {
    ctx: Ctx,
    alice: User,
    token: String,
    source: Project,
    dest: Project,
}

impl From<TestDb> for World {
    fn from(db: TestDb) -> World {
        let ctx = Ctx::new(db);
        let (alice, token) = ctx.user("alice");
        let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
        let dest = ferry_testkit::project(ctx.db.store(), &alice, "Dest");
        World {
            ctx,
            alice,
            token,
            source,
            dest,
        }
    }
}

impl World {
    fn conn(&self) -> diesel::r2d2::PooledConnection<ferry_store::DbManager> {
        self.ctx.db.store().conn().unwrap()
    }

    /// A closed record (or `state`) in `folder` of `project`, linking `links`.
    fn record(
        &self,
        project: &Project,
        folder: &str,
        name: &str,
        hidden: bool,
        links: &[&Object],
    ) -> Object {
        self.object(project, folder, name, hidden, links, ObjectState::Closed)
    }

    fn object(
        &self,
        project: &Project,
        folder: &str,
        name: &str,
        hidden: bool,
        links: &[&Object],
        state: ObjectState,
    ) -> Object {
        let mut conn = self.conn();
        let folder =
            folders::ensure_path(&mut conn, project.id, &FolderPath::parse(folder).unwrap())
                .unwrap();
        let links: Vec<Value> = links
            .iter()
            .map(|o| json!({"$dnanexus_link": o.dx_id.as_str()}))
            .collect();
        let new = NewDataObject {
            class: DxClass::Record,
            project_id: project.id,
            folder: &folder,
            name,
            details: json!({ "links": links }),
            hidden,
            types: vec![],
            tags: vec!["t".into()],
            properties: Map::new(),
            state,
            created_by: self.alice.id,
        };
        objects::create(&mut conn, &new).unwrap().0
    }

    async fn clone(&self, body: Value) -> Reply {
        self.clone_as(&self.token, &self.source.dx_id, body).await
    }

    async fn clone_as(&self, token: &str, source: &DxId, body: Value) -> Reply {
        self.ctx
            .post(&format!("/{source}/clone"), token, body)
            .await
    }

    /// `/project-xxxx/updateSponsorship` as alice.
    async fn sponsor(&self, project: &Project, until: Value) -> Reply {
        let path = format!("/{}/updateSponsorship", project.dx_id);
        self.ctx
            .post(&path, &self.token, json!({ "sponsoredUntil": until }))
            .await
    }

    fn placements_in(&self, project: &Project) -> i64 {
        placements::table
            .filter(placements::project_id.eq(project.id.get()))
            .count()
            .get_result(&mut self.conn())
            .unwrap()
    }
}

backends!(#[actix_web::test] async a_clone_answers_id_project_and_exists_and_shows_in_both_dialects);
async fn a_clone_answers_id_project_and_exists_and_shows_in_both_dialects(w: World) {
    let a = w.record(&w.source, "/data", "a.txt", false, &[]);
    let body = json!({
        "objects": [a.dx_id],
        "folders": ["/data"],
        "project": w.dest.dx_id,
        "destination": "/in",
        "parents": true,
        "targetFileRelocation": false,
    });
    let first = w.clone(body.clone()).await;
    assert_eq!(first.status.as_u16(), 200, "{}", first.json);
    assert_eq!(
        first.json,
        json!({"id": w.source.dx_id, "project": w.dest.dx_id, "exists": []})
    );
    let second = w
        .clone(json!({"objects": [a.dx_id], "project": w.dest.dx_id}))
        .await;
    assert_eq!(second.json["exists"], json!([a.dx_id]));

    // The clone has its own SBG file id, in the cloned folder /in/data.
    let listed = w
        .ctx
        .get(&format!("/v2/files?project={}", w.dest.sbg_id), &w.token)
        .await;
    let names: Vec<&str> = listed.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| item["name"].as_str())
        .collect();
    assert_eq!(names, ["in"], "{}", listed.json);
    assert_eq!(w.placements_in(&w.dest), 1);
}

backends!(#[actix_web::test] async bad_input_is_invalid_input_or_invalid_type_and_changes_nothing);
async fn bad_input_is_invalid_input_or_invalid_type_and_changes_nothing(w: World) {
    let a = w.record(&w.source, "/", "a", false, &[]);
    let dest = w.dest.dx_id.to_string();
    let cases = [
        (json!({"objects": "x", "project": dest}), "InvalidInput"),
        (json!({"objects": [""], "project": dest}), "InvalidInput"),
        (json!({"objects": [1], "project": dest}), "InvalidInput"),
        (json!({"folders": [""], "project": dest}), "InvalidInput"),
        (json!({"folders": "/", "project": dest}), "InvalidInput"),
        (
            json!({"folders": ["relative"], "project": dest}),
            "InvalidInput",
        ),
        (
            json!({"folders": ["/a/x", "/b/x"], "project": dest}),
            "InvalidInput",
        ),
        (json!({"objects": [a.dx_id]}), "InvalidInput"),
        (json!({"objects": [a.dx_id], "project": ""}), "InvalidInput"),
        (json!({"objects": [a.dx_id], "project": 5}), "InvalidInput"),
        (
            json!({"objects": [a.dx_id], "project": w.source.dx_id}),
            "InvalidInput",
        ),
        (
            json!({"objects": [a.dx_id], "project": dest, "destination": ""}),
            "InvalidInput",
        ),
        (
            json!({"objects": [a.dx_id], "project": dest, "destination": "in"}),
            "InvalidInput",
        ),
        (
            json!({"objects": [a.dx_id], "project": dest, "parents": "yes"}),
            "InvalidInput",
        ),
        (
            json!({"objects": [a.dx_id], "project": a.dx_id}),
            "InvalidType",
        ),
        (
            json!({"objects": [a.dx_id], "project": "nonsense"}),
            "InvalidType",
        ),
    ];
    for (body, kind) in cases {
        let reply = w.clone(body.clone()).await;
        assert_eq!(
            reply.json["error"]["type"], kind,
            "{body} -> {}",
            reply.json
        );
        assert_eq!(reply.status.as_u16(), 422, "{body}");
    }
    assert_eq!(w.placements_in(&w.dest), 0);
}

backends!(#[actix_web::test] async what_is_missing_is_resource_not_found);
async fn what_is_missing_is_resource_not_found(w: World) {
    let a = w.record(&w.source, "/f", "a", false, &[]);
    let unknown_project = DxId::generate(DxClass::Project);
    let unknown_container = DxId::generate(DxClass::Container);
    let unknown_record = DxId::generate(DxClass::Record);
    let dest = w.dest.dx_id.to_string();
    let not_found = [
        w.clone_as(&w.token, &unknown_project, json!({"project": dest}))
            .await,
        w.clone_as(&w.token, &unknown_container, json!({"project": dest}))
            .await,
        w.clone(json!({"objects": [a.dx_id], "project": unknown_project}))
            .await,
        w.clone(json!({"objects": [unknown_record], "project": dest}))
            .await,
        w.clone(json!({"folders": ["/nope"], "project": dest}))
            .await,
        w.clone(json!({"folders": ["/f"], "project": dest, "destination": "/no"}))
            .await,
    ];
    for reply in &not_found {
        assert_dx_error(reply, 404, "ResourceNotFound");
    }
    // clone is a container method only.
    let on_object = w
        .ctx
        .post(
            &format!("/{}/clone", a.dx_id),
            &w.token,
            json!({"project": dest}),
        )
        .await;
    assert_dx_error(&on_object, 404, "ResourceNotFound");
    assert_eq!(w.placements_in(&w.dest), 0);
}

fn set_project(w: &World, project: &Project, restricted: bool, phi: bool, region: &str) {
    diesel::update(projects::table.find(project.id.get()))
        .set((
            projects::restricted.eq(restricted),
            projects::contains_phi.eq(phi),
            projects::region.eq(region),
        ))
        .execute(&mut w.conn())
        .unwrap();
}

backends!(#[actix_web::test] async access_flags_and_regions_are_permission_denied);
async fn access_flags_and_regions_are_permission_denied(w: World) {
    let a = w.record(&w.source, "/", "a", false, &[]);
    let body = json!({"objects": [a.dx_id], "project": w.dest.dx_id});
    let (bob, bob_token) = w.ctx.user("bob");
    let as_bob = || w.clone_as(&bob_token, &w.source.dx_id, body.clone());

    assert_dx_error(&as_bob().await, 403, "PermissionDenied");
    MemberBuilder::new(&w.source, &bob).create(w.ctx.db.store());
    MemberBuilder::new(&w.dest, &bob).create(w.ctx.db.store());
    let reply = as_bob().await;
    assert_dx_error(&reply, 403, "PermissionDenied");
    assert!(
        reply.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("UPLOAD")
    );

    for (restricted, phi, region) in [
        (true, false, "aws:us-east-1"),
        (false, true, "aws:us-east-1"),
        (false, false, "azure:westus"),
    ] {
        set_project(&w, &w.source, restricted, phi, region);
        assert_dx_error(&w.clone(body.clone()).await, 403, "PermissionDenied");
    }
    set_project(&w, &w.source, false, false, "aws:us-east-1");
    assert_eq!(w.placements_in(&w.dest), 0);
    assert_eq!(w.clone(body).await.status.as_u16(), 200);
}

backends!(#[actix_web::test] async states_folders_and_sponsorship_are_invalid_state);
async fn states_folders_and_sponsorship_are_invalid_state(w: World) {
    let open = w.object(&w.source, "/", "open", false, &[], ObjectState::Open);
    let reply = w
        .clone(json!({"objects": [open.dx_id], "project": w.dest.dx_id}))
        .await;
    assert_dx_error(&reply, 422, "InvalidState");

    w.record(&w.source, "/bar", "b", false, &[]);
    folders::ensure_path(
        &mut w.conn(),
        w.dest.id,
        &FolderPath::parse("/bar").unwrap(),
    )
    .unwrap();
    let reply = w
        .clone(json!({"folders": ["/bar"], "project": w.dest.dx_id}))
        .await;
    assert_dx_error(&reply, 422, "InvalidState");
    assert_eq!(
        reply.json["error"]["message"],
        "If cloned, a folder would conflict with the route of an existing folder."
    );

    // Third-party sponsorship of the destination, through the API.
    let next_year = (Utc::now() + Duration::days(365)).timestamp_millis();
    let sponsored = w.sponsor(&w.dest, json!(next_year)).await;
    assert_eq!(sponsored.json, json!({"id": w.dest.dx_id}));

    let third = ferry_testkit::project(w.ctx.db.store(), &w.alice, "Third");
    let c = w.record(&w.source, "/", "c", false, &[]);
    let into_third = json!({"objects": [c.dx_id], "project": third.dx_id});
    assert_eq!(w.clone(into_third).await.status.as_u16(), 200);
    assert_eq!(
        w.sponsor(&third, json!(next_year)).await.status.as_u16(),
        200
    );
    let reply = w
        .clone(json!({"objects": [c.dx_id], "project": w.dest.dx_id}))
        .await;
    assert_dx_error(&reply, 422, "InvalidState");
    assert_eq!(
        reply.json["error"]["details"],
        json!({"alreadySponsored": [{"id": c.dx_id, "project": third.dx_id}]})
    );

    let d = w.record(&w.source, "/", "d", false, &[]);
    sponsor_by_operator(&mut w.conn(), w.source.id).unwrap();
    let reply = w
        .clone(json!({"objects": [d.dx_id], "project": w.dest.dx_id}))
        .await;
    assert_dx_error(&reply, 422, "InvalidState");
    assert_eq!(w.placements_in(&w.dest), 0);

    assert_eq!(w.sponsor(&w.dest, Value::Null).await.status.as_u16(), 200);
    let reply = w
        .clone(json!({"objects": [d.dx_id], "project": w.dest.dx_id}))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.json);
}

backends!(#[actix_web::test] async update_sponsorship_needs_administer);
async fn update_sponsorship_needs_administer(w: World) {
    let (bob, bob_token) = w.ctx.user("bob");
    let path = format!("/{}/updateSponsorship", w.dest.dx_id);
    let body = json!({"sponsoredUntil": 0});
    assert_dx_error(
        &w.ctx.post(&path, &bob_token, body.clone()).await,
        404,
        "ResourceNotFound",
    );
    MemberBuilder::new(&w.dest, &bob)
        .level(Level::Contribute)
        .can_copy()
        .can_execute()
        .create(w.ctx.db.store());
    assert_dx_error(
        &w.ctx.post(&path, &bob_token, body.clone()).await,
        403,
        "PermissionDenied",
    );
    assert_dx_error(
        &w.ctx
            .post(&path, &w.token, json!({"sponsoredUntil": "soon"}))
            .await,
        422,
        "InvalidInput",
    );
}

backends!(#[actix_web::test] async a_destination_at_its_spending_limit_is_spending_limit_exceeded);
async fn a_destination_at_its_spending_limit_is_spending_limit_exceeded(w: World) {
    let (carol, carol_token) = w.ctx.user("carol");
    let carols = ferry_testkit::project(w.ctx.db.store(), &carol, "Carol's");
    members::add(&mut w.conn(), w.dest.id, carol.id, Permissions::owner()).unwrap();
    let mut conn = w.conn();
    let folder = folders::ensure_path(&mut conn, carols.id, &FolderPath::root()).unwrap();
    let new = NewDataObject {
        class: DxClass::Record,
        project_id: carols.id,
        folder: &folder,
        name: "c",
        details: json!({}),
        hidden: false,
        types: vec![],
        tags: vec![],
        properties: Map::new(),
        state: ObjectState::Closed,
        created_by: carol.id,
    };
    let (c, _) = objects::create(&mut conn, &new).unwrap();
    diesel::update(billing_groups::table.find(w.dest.billing_group_id.get()))
        .set((
            billing_groups::spending_limit_cents.eq(Some(0_i64)),
            billing_groups::spent_cents.eq(0_i64),
        ))
        .execute(&mut conn)
        .unwrap();
    let reply = w
        .clone_as(
            &carol_token,
            &carols.dx_id,
            json!({"objects": [c.dx_id], "project": w.dest.dx_id}),
        )
        .await;
    assert_dx_error(&reply, 403, "SpendingLimitExceeded");
    assert_eq!(w.placements_in(&w.dest), 0);
}

backends!(#[actix_web::test] async list_projects_maps_each_visible_project_to_the_callers_level);
async fn list_projects_maps_each_visible_project_to_the_callers_level(w: World) {
    let hidden = w.record(&w.source, "/", "hidden", true, &[]);
    let a = w.record(&w.source, "/", "a", false, &[&hidden]);
    let reply = w
        .clone(json!({"objects": [a.dx_id], "project": w.dest.dx_id}))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.json);

    let path = format!("/{}/listProjects", hidden.dx_id);
    let expected = json!({
        w.source.dx_id.as_str(): "ADMINISTER",
        w.dest.dx_id.as_str(): "ADMINISTER",
    });
    assert_eq!(w.ctx.post(&path, &w.token, json!({})).await.json, expected);

    let (bob, bob_token) = w.ctx.user("bob");
    assert_dx_error(
        &w.ctx.post(&path, &bob_token, json!({})).await,
        404,
        "ResourceNotFound",
    );
    MemberBuilder::new(&w.dest, &bob)
        .level(Level::Upload)
        .create(w.ctx.db.store());
    assert_eq!(
        w.ctx.post(&path, &bob_token, json!({})).await.json,
        json!({ w.dest.dx_id.as_str(): "UPLOAD" })
    );
    let unknown = format!("/{}/listProjects", DxId::generate(DxClass::File));
    assert_dx_error(
        &w.ctx.post(&unknown, &w.token, json!({})).await,
        404,
        "ResourceNotFound",
    );
}
