-- wrk script for benchmarks/load_bench.py: every request POSTs the same JSON body.
-- Usage: wrk -s post_image.lua URL -- BODY_FILE [PATH]
-- The body is read once per wrk thread and the whole request is pre-formatted, so the load
-- generator spends its (shared) CPU on sockets, not on Lua.

local request_text

function init(args)
  local file = assert(io.open(args[1], "rb"), "cannot open the body file " .. tostring(args[1]))
  local body = file:read("*a")
  file:close()
  local headers = { ["Content-Type"] = "application/json" }
  request_text = wrk.format("POST", args[2] or "/api/predict", headers, body)
end

function request()
  return request_text
end
