//! `/system/findDataObjects` and `findProjects` with every filter dxpy sends: tags, properties
//! (value and presence), type, state, id, link, created and modified, region, level, archival
//! state, name modes (exact, glob, regexp), and paging; an unknown filter is `InvalidInput`.
//! And what a record made `initializeFrom` another starts from, which such searches find.

use serde_json::{Value, json};

use crate::support::{Ctx, Reply, assert_dx_error};
use actix_web::http::Method;
use ferry_testkit::{TestDb, backends};

struct Dx {
    ctx: Ctx,
    token: String,
}

impl From<TestDb> for Dx {
    /// Alice, over one backend.
    fn from(db: TestDb) -> Dx {
        let ctx = Ctx::new(db);
        let (_, token) = ctx.user("alice");
        Dx { ctx, token }
    }
}

impl Dx {
    async fn call(&self, path: &str, body: Value) -> Reply {
        self.ctx
            .send_bytes(
                Method::POST,
                path,
                &self.token,
                body.to_string().into_bytes(),
            )
            .await
    }

    async fn ok(&self, path: &str, body: Value) -> Value {
        let reply = self.call(path, body).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.json);
        reply.json
    }

    /// The `id` that `path` answers, as `/project/new` and `/record/new` do.
    async fn made(&self, path: &str, body: Value) -> String {
        self.ok(path, body).await["id"].as_str().unwrap().to_owned()
    }

    /// Alice's new project named `name`.
    async fn project(&self, name: &str) -> String {
        self.made("/project/new", json!({ "name": name })).await
    }

    /// The ids `findDataObjects` finds in `project` with `filters`, in order.
    async fn found(&self, project: &str, filters: Value) -> Vec<String> {
        let mut body = json!({"scope": {"project": project}, "visibility": "either"});
        body.as_object_mut()
            .unwrap()
            .extend(filters.as_object().unwrap().clone());
        let answer = self.ok("/system/findDataObjects", body).await;
        answer["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|result| result["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

backends!(#[actix_web::test] async every_find_data_objects_filter_narrows_the_search);
async fn every_find_data_objects_filter_narrows_the_search(dx: Dx) {
    let project = dx.project("Search").await;
    let record = |body: Value| {
        let mut body = body;
        body["project"] = json!(project);
        let dx = &dx;
        async move { dx.made("/record/new", body).await }
    };
    let reference = record(json!({"name": "ref.fa", "types": ["Ref"], "close": true})).await;
    let reads = record(json!({
        "name": "reads.bam", "tags": ["raw", "2024"], "properties": {"study": "S1"},
        "types": ["Reads"], "details": {"ref": {"$dnanexus_link": reference}}, "close": true,
    }))
    .await;
    let notes = record(json!({
        "name": "Notes.txt", "tags": ["final"], "properties": {"study": "S2", "site": "north"},
    }))
    .await;
    let all = vec![reference.clone(), reads.clone(), notes.clone()];

    for (filters, expected) in [
        (json!({}), all.clone()),
        (json!({"tags": "raw"}), vec![reads.clone()]),
        (
            json!({"tags": {"$or": ["raw", "final"]}}),
            vec![reads.clone(), notes.clone()],
        ),
        (json!({"tags": {"$and": ["raw", "final"]}}), vec![]),
        (json!({"tag": "final"}), vec![notes.clone()]),
        (json!({"properties": {"study": "S1"}}), vec![reads.clone()]),
        (json!({"properties": {"site": true}}), vec![notes.clone()]),
        (
            json!({"properties": {"site": false}}),
            vec![reference.clone(), reads.clone()],
        ),
        (
            json!({"properties": {"$or": [{"study": "S1"}, {"site": "north"}]}}),
            vec![reads.clone(), notes.clone()],
        ),
        (json!({"type": "Ref"}), vec![reference.clone()]),
        (
            json!({"type": {"$or": ["Ref", "Reads"]}}),
            vec![reference.clone(), reads.clone()],
        ),
        (json!({"state": "open"}), vec![notes.clone()]),
        (
            json!({"state": "closed"}),
            vec![reference.clone(), reads.clone()],
        ),
        (
            json!({"id": [notes, reference]}),
            vec![reference.clone(), notes.clone()],
        ),
        (json!({"link": reference}), vec![reads.clone()]),
        (json!({"name": "reads.bam"}), vec![reads.clone()]),
        (json!({"name": {"glob": "*.txt"}}), vec![notes.clone()]),
        (
            json!({"name": {"regexp": "^r.*\\.(bam|fa)$"}}),
            vec![reference.clone(), reads.clone()],
        ),
        (
            json!({"name": {"regexp": "^NOTES", "flags": "i"}}),
            vec![notes.clone()],
        ),
        (json!({"name": {"regexp": "^NOTES"}}), vec![]),
        (json!({"created": {"after": 4_000_000_000_000_i64}}), vec![]),
        (
            json!({"created": {"before": 4_000_000_000_000_i64}}),
            all.clone(),
        ),
        (json!({"modified": {"after": -3_600_000}}), all.clone()),
        (json!({"modified": {"before": -3_600_000}}), vec![]),
        (json!({"region": "aws:us-east-1"}), all.clone()),
        (json!({"region": "azure:westeurope"}), vec![]),
        (json!({"level": "ADMINISTER"}), all.clone()),
        (json!({"archivalState": "any"}), all.clone()),
        (json!({"archivalState": "archived"}), vec![]),
    ] {
        assert_eq!(
            dx.found(&project, filters.clone()).await,
            expected,
            "{filters}"
        );
    }

    // A page cut after the filters decided here, and the next page from where it stopped.
    let body = json!({"scope": {"project": project}, "tags": {"$or": ["raw", "final"]},
                      "limit": 1});
    let first = dx.ok("/system/findDataObjects", body.clone()).await;
    assert_eq!(first["results"][0]["id"], reads.as_str());
    let mut rest = body;
    rest["starting"] = first["next"].clone();
    let second = dx.ok("/system/findDataObjects", rest).await;
    assert_eq!(second["results"][0]["id"], notes.as_str());
    assert_eq!(second["next"], Value::Null);

    for filters in [
        json!({"color": "red"}),
        json!({"tags": 5}),
        json!({"tags": {"$not": ["raw"]}}),
        json!({"properties": {"study": 1}}),
        json!({"state": "sleeping"}),
        json!({"name": {"regexp": "("}}),
        json!({"name": {"regexp": "a", "flags": "x"}}),
        json!({"created": {"since": 0}}),
        json!({"archivalState": "frozen"}),
    ] {
        let mut body = json!({"scope": {"project": project}});
        body.as_object_mut()
            .unwrap()
            .extend(filters.as_object().unwrap().clone());
        let reply = dx.call("/system/findDataObjects", body).await;
        assert_dx_error(&reply, 422, "InvalidInput");
    }
}

backends!(#[actix_web::test] async every_find_projects_filter_narrows_the_search);
async fn every_find_projects_filter_narrows_the_search(dx: Dx) {
    let new = |body: Value| {
        let dx = &dx;
        async move { dx.made("/project/new", body).await }
    };
    let alpha = new(
        json!({"name": "Alpha", "tags": ["raw"], "properties": {"study": "S1"},
                           "containsPHI": true}),
    )
    .await;
    let beta = new(json!({"name": "Beta", "tags": ["final"]})).await;
    let found = |filters: Value| {
        let dx = &dx;
        async move {
            let answer = dx.ok("/system/findProjects", filters).await;
            answer["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|result| result["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let both = vec![alpha.clone(), beta.clone()];
    for (filters, expected) in [
        (json!({}), both.clone()),
        (json!({"tags": "raw"}), vec![alpha.clone()]),
        (json!({"tags": {"$or": ["raw", "final"]}}), both.clone()),
        (json!({"properties": {"study": "S1"}}), vec![alpha.clone()]),
        (json!({"properties": {"study": false}}), vec![beta.clone()]),
        (json!({"containsPHI": true}), vec![alpha.clone()]),
        (json!({"containsPHI": false}), vec![beta.clone()]),
        (json!({"billTo": "user-alice"}), both.clone()),
        (json!({"billTo": "org-other"}), vec![]),
        (json!({"region": "aws:us-east-1"}), both.clone()),
        (json!({"region": "aws:eu-central-1"}), vec![]),
        (json!({"created": {"after": -3_600_000}}), both.clone()),
        (json!({"modified": {"before": -3_600_000}}), vec![]),
        (json!({"level": "ADMINISTER"}), both.clone()),
        (
            json!({"explicitPermission": true, "public": false}),
            both.clone(),
        ),
        (json!({"public": true}), vec![]),
        (
            json!({"name": {"glob": "B*"}, "describe": true}),
            vec![beta.clone()],
        ),
    ] {
        assert_eq!(found(filters.clone()).await, expected, "{filters}");
    }
    for filters in [
        json!({"colour": "red"}),
        json!({"tags": 1}),
        json!({"containsPHI": "yes"}),
        json!({"created": {"since": 0}}),
    ] {
        let reply = dx.call("/system/findProjects", filters).await;
        assert_dx_error(&reply, 422, "InvalidInput");
    }
}

backends!(#[actix_web::test] async a_record_initialized_from_another_takes_what_it_does_not_give);
async fn a_record_initialized_from_another_takes_what_it_does_not_give(dx: Dx) {
    let project = dx.project("Init").await;
    let template = dx
        .ok(
            "/record/new",
            json!({"project": project, "name": "template", "details": {"k": 1},
                   "types": ["Sample"], "tags": ["old"], "properties": {"p": "v"},
                   "hidden": true, "close": true}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let made = dx
        .ok(
            "/record/new",
            json!({"project": project, "tags": ["new"],
                   "initializeFrom": {"project": project, "id": template}}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let options = json!({"details": true, "properties": true});
    let described = dx.ok(&format!("/{made}/describe"), options).await;
    assert_eq!(
        (
            &described["name"],
            &described["details"],
            &described["types"],
            &described["tags"],
            &described["properties"],
            &described["hidden"],
            &described["state"],
        ),
        (
            &json!("template"),
            &json!({"k": 1}),
            &json!(["Sample"]),
            &json!(["new"]),
            &json!({"p": "v"}),
            &json!(true),
            &json!("open"),
        ),
        "{described}"
    );
    let unknown =
        json!({"project": project, "initializeFrom": {"id": "record-000000000000000000000000"}});
    assert_dx_error(
        &dx.call("/record/new", unknown).await,
        404,
        "ResourceNotFound",
    );
    let file = json!({"project": project, "initializeFrom": {"id": template}});
    assert_dx_error(&dx.call("/file/new", file).await, 422, "InvalidInput");
}

backends!(#[actix_web::test] async resolve_data_objects_finds_each_name_in_its_folder);
async fn resolve_data_objects_finds_each_name_in_its_folder(dx: Dx) {
    let project = dx.project("Resolve").await;
    let record = |name: &str, folder: &str, hidden: bool| {
        let body = json!({"project": project, "name": name, "folder": folder,
                          "parents": true, "hidden": hidden});
        let dx = &dx;
        async move { dx.made("/record/new", body).await }
    };
    let a = record("a", "/", false).await;
    let a_again = record("a", "/", true).await;
    let b = record("b", "/data", false).await;
    let answer = dx
        .ok(
            "/system/resolveDataObjects",
            json!({"project": project, "objects": [
                {"name": "a"},
                {"name": "b", "folder": "/data"},
                {"name": "b"},
                {"name": "missing", "folder": "/data"},
            ]}),
        )
        .await;
    let ids = |i: usize| -> Vec<String> {
        answer["results"][i]
            .as_array()
            .unwrap()
            .iter()
            .map(|found| {
                assert_eq!(found["project"], project.as_str());
                found["id"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    assert_eq!(ids(0), [a, a_again]);
    assert_eq!(ids(1), [b]);
    assert!(
        ids(2).is_empty(),
        "a name is looked up in its folder, not below"
    );
    assert!(ids(3).is_empty());
    for body in [
        json!({"objects": [{"name": "a"}]}),
        json!({"project": project, "objects": [{"id": "record-x"}]}),
        json!({"project": project}),
    ] {
        assert_dx_error(
            &dx.call("/system/resolveDataObjects", body).await,
            422,
            "InvalidInput",
        );
    }
    let elsewhere =
        json!({"objects": [{"name": "a", "project": "project-000000000000000000000000"}]});
    let reply = dx.call("/system/resolveDataObjects", elsewhere).await;
    assert_dx_error(&reply, 404, "ResourceNotFound");
}
