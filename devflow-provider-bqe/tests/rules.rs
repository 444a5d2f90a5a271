//! BQE's catalog forbids rules that include sub-projects.

use devflow_sync_core::rules::IntegrationRule;

#[test]
fn bqe_rules_must_not_include_sub_projects() {
    let catalog = devflow_provider_bqe::catalog().unwrap();
    let doc = r#"{"provider":"bqe","object":"project","direction":"pull","interval":{"minutes":60},"includeChildren":true}"#;
    let rule = IntegrationRule::load("bqe-rule.json", doc).unwrap();
    let err = rule.check_for("bqe-rule.json", &catalog).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bqe-rule.json: /includeChildren: must be false for BQE CORE: sub-projects are never imported, only parent projects"
    );
    let ok = IntegrationRule::load("bqe-rule.json", &doc.replace("true", "false")).unwrap();
    ok.check_for("bqe-rule.json", &catalog).unwrap();
    // Absent, it is false: allowed.
    let default = IntegrationRule::load(
        "bqe-rule.json",
        &doc.replace(r#","includeChildren":true"#, ""),
    )
    .unwrap();
    default.check_for("bqe-rule.json", &catalog).unwrap();
}
