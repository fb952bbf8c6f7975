-- wrk script: POSTs one recorded AdmissionReview (BODY_FILE) on every request.
local file = io.open(os.getenv("BODY_FILE"), "r")
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
