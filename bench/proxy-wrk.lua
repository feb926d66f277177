-- wrk script: every request is an absolute-form GET through the proxy to WARREN_BENCH_TARGET.
local target = os.getenv("WARREN_BENCH_TARGET")
local authority = target:match("^http://([^/]+)")
wrk.method = "GET"
wrk.path = target
wrk.headers["Host"] = authority
