"""The Jira simulator driven by python-jira: links, watchers, edit metadata,
worklogs, search variants, users, components. Usage: jira_meta.py URL."""
import sys, datetime
FAILED = []
from jira import JIRA
j = JIRA(server=sys.argv[1], basic_auth=("dev@devflow.test","ATATT-simulator"))
def step(name, f):
    try:
        r=f(); print("OK  ", name, (str(r)[:120] if r is not None else ""))
        return r
    except Exception as e:
        FAILED.append(name); print("FAIL", name, type(e).__name__, str(e).split("\n")[0:2])
i = j.create_issue(project="DEV", summary="More calls", issuetype={"name": "Task"})
i2 = j.create_issue(project="DEV", summary="Other", issuetype={"name": "Task"})
step("changelog", lambda: len(j.issue(i.key, expand="changelog").changelog.histories))
step("issue_link_types", lambda: [t.name for t in j.issue_link_types()])
step("create_issue_link", lambda: j.create_issue_link("Blocks", i.key, i2.key))
step("add_remote_link", lambda: j.add_remote_link(i, {"url": "https://host.example/items/7", "title": "Item 7"}, globalId="host:item-7").id)
step("remote_links", lambda: [l.object.title for l in j.remote_links(i)])
step("watchers", lambda: j.watchers(i).watchCount)
step("editmeta", lambda: list(j.editmeta(i)["fields"].keys())[:5])
step("add_worklog started", lambda: j.add_worklog(i, timeSpentSeconds=900, started=datetime.datetime(2026,12,1,9,0,tzinfo=datetime.timezone.utc)).started)
step("worklog update", lambda: j.worklogs(i)[0].update(timeSpentSeconds=1200))
step("worklog delete", lambda: j.worklogs(i)[0].delete())
step("search fields", lambda: [x.fields.summary for x in j.search_issues("project = DEV AND summary ~ More", fields="summary")])
step("search json", lambda: j.search_issues("project = DEV", maxResults=2, json_result=True)["issues"][0]["key"])
step("enhanced_search", lambda: [x.key for x in j.enhanced_search_issues("project = DEV", maxResults=3)] if hasattr(j,"enhanced_search_issues") else "n/a")
step("user search", lambda: [u.accountId for u in j.search_users(query="Simulated")])
step("project components", lambda: j.project_components("DEV"))
step("project versions", lambda: j.project_versions("DEV"))
step("issue_properties", lambda: j.issue_properties(i))

if FAILED:
    print("failed:", ", ".join(FAILED)); sys.exit(1)
print("all calls answered")
