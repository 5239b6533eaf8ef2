"""What the load test's simulated team does, shared by the locustfile and bench/load/run.py
(which must not import locust: it patches the standard library for gevent)."""

ALLOWED_HOST = "127.0.0.1"

# The kinds of request a person makes, in the order the report lists them; then the two a
# person makes once, at the start of their session.
KINDS = ("home", "home parts", "list", "search", "card", "card parts", "log visit", "board", "api list")
SETUP_KINDS = ("login", "ids")

# How many times each role does each thing in a day: a deck of that many cards, shuffled and
# dealt one action at a time ("card" opens an account card; "log visit" opens one and logs a
# visit from it). Specialists live in their accounts; the branch manager watches the board and
# the list; the director reads the home page, the board and the API's figures.
DAYS = {
    "specialist": {"home": 3, "list": 2, "search": 4, "card": 6, "log visit": 3, "board": 2, "api list": 1},
    "manager": {"home": 3, "list": 3, "search": 2, "card": 4, "log visit": 1, "board": 4, "api list": 2},
    "director": {"home": 4, "list": 2, "search": 2, "card": 3, "log visit": 1, "board": 3, "api list": 3},
}
# Who plays each role (the demo's users), and how the simulated people split between roles:
# of 8 people, 5 specialists, 2 managers and 1 director (4 people already cover every role).
USERNAMES = {
    "specialist": ("gz_th_spec1", "gz_th_spec2", "sz_ns_spec1"),
    "manager": ("gz_manager",),
    "director": ("director",),
}
WEIGHTS = {"specialist": 5, "manager": 2, "director": 1}

# What a logged visit's summary says (the test counts the visits logged by these words).
VISIT_SUMMARIES = (
    "上门拜访，了解下季度采购计划",
    "与采购部沟通续约条款",
    "回访使用情况，收集改进意见",
    "介绍新产品方案，客户有兴趣试用",
    "跟进付款进度，确认开票信息",
)
