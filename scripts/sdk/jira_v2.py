"""The Jira simulator driven by python-jira (REST v2 and `latest`): the calls a host's
test suite makes. Usage: jira_v2.py URL. Exits 1 naming the calls that failed."""
import sys, traceback
FAILED = []
from jira import JIRA
url=sys.argv[1]
j = JIRA(server=url, basic_auth=("dev@devflow.test","ATATT-simulator"))
def step(name, f):
    try:
        r=f(); print("OK  ", name, (str(r)[:120] if r is not None else ""))
        return r
    except Exception as e:
        FAILED.append(name); print("FAIL", name, type(e).__name__, str(e)[:300])
step("server_info", lambda: j.server_info())
step("myself", lambda: j.myself()["displayName"])
step("projects", lambda: [p.key for p in j.projects()])
step("project", lambda: j.project("DEV").name)
step("fields", lambda: len(j.fields()))
step("issue_types", lambda: [t.name for t in j.issue_types()])
step("priorities", lambda: [p.name for p in j.priorities()])
step("statuses", lambda: [s.name for s in j.statuses()])
issues = step("search_issues", lambda: j.search_issues("project = DEV ORDER BY created DESC", maxResults=10))
new = step("create_issue", lambda: j.create_issue(project="DEV", summary="From python-jira", description="Plain *wiki* text", issuetype={"name": "Task"}))
if new:
    step("issue", lambda: j.issue(new.key).fields.summary)
    step("update", lambda: new.update(summary="Renamed by python-jira"))
    step("issue after update", lambda: j.issue(new.key).fields.summary)
    step("transitions", lambda: [t["name"] for t in j.transitions(new)])
    ts = j.transitions(new) if True else []
    if ts: step("transition", lambda: j.transition_issue(new, ts[0]["id"]))
    step("add_comment", lambda: j.add_comment(new, "A comment").id)
    step("comments", lambda: len(j.comments(new)))
    step("add_worklog", lambda: j.add_worklog(new, timeSpent="1h", comment="worked").id)
    step("worklogs", lambda: [w.timeSpentSeconds for w in j.worklogs(new)])
    step("issue properties", lambda: j.add_issue_property(new, "devflow", {"a": 1}) if hasattr(j,'add_issue_property') else None)
    step("labels update", lambda: new.update(fields={"labels": ["x", "y"]}))
    step("assign", lambda: j.assign_issue(new, None))
    step("search by key", lambda: [i.key for i in j.search_issues(f"key = {new.key}")])
    step("delete", lambda: new.delete())
step("create_issues bulk", lambda: j.create_issues([{"project": {"key": "DEV"}, "summary": "bulk 1", "issuetype": {"name": "Task"}}]))
n2 = step("create v2 desc", lambda: j.create_issue(project="DEV", summary="Described", description="First para\n\nSecond para", issuetype={"name": "Task"}))
if n2:
    step("v2 description is text", lambda: repr(j.issue(n2.key).fields.description))
    wl = j.add_worklog(n2, timeSpent="30m", comment="a comment")
    step("v2 worklog comment", lambda: repr(j.worklog(n2.key, wl.id).comment))
    step("v2 comment body", lambda: repr(j.comments(n2)[0].body) if j.add_comment(n2, "hello *there*") else None)
    step("assign to account", lambda: j.assign_issue(n2, "acc-1"))
    step("assignee", lambda: j.issue(n2.key).fields.assignee)

if FAILED:
    print("failed:", ", ".join(FAILED)); sys.exit(1)
print("all calls answered")
