-- load.lua: wrk script for tests/e2e/load.sh and tests/soak.sh.
--   wrk ... -s tests/load.lua URL -- N [MODULE [PREFIX]]
-- spreads requests over /latest, lookups of stored versions (records
-- 0..N-1 of MODULE, "example.com/load/m{i%20}@v1.0.{i}" by default,
-- or the tests/upstream generator's "example.com/gen/m{i%1000}@v1.0.{i}"
-- for MODULE "gen"), full and partial hash tiles, and full and partial
-- data tiles of a tree of N records; PREFIX (e.g. /sumdb/NAME) is put
-- before every path.  Every answer must be 200: others are counted by
-- status and printed with the latency percentiles at the end.

local threads = {}
local band, rshift = bit.band, bit.rshift

function setup(thread)
	thread:set("id", #threads + 1)
	table.insert(threads, thread)
end

local function tilepath(level, n, w)
	local s = string.format("%03d", n % 1000)
	n = math.floor(n / 1000)
	while n > 0 do
		s = string.format("x%03d/%s", n % 1000, s)
		n = math.floor(n / 1000)
	end
	local p = "/tile/8/" .. level .. "/" .. s
	if w < 256 then
		p = p .. ".p/" .. w
	end
	return p
end

function init(args)
	N = tonumber(args[1] or "3000")
	gen = args[2] == "gen"
	prefix = args[3] or ""
	bad = 0
	statuses = {}
	seen = ""
	math.randomseed(os.time() * 1000 + id)
	-- The widest level of full hash tiles that exists, for variety.
	levels = 0
	while rshift(N, 8 * (levels + 1)) >= 256 do
		levels = levels + 1
	end
end

local function lookup()
	local i = math.random(0, N - 1)
	if gen then
		return string.format("/lookup/example.com/gen/m%d@v1.0.%d", i % 1000, i)
	end
	return string.format("/lookup/example.com/load/m%d@v1.0.%d", i % 20, i)
end

local function fulltile(level)
	local nt = rshift(N, 8 * (level + 1))
	local lv = level
	if level < 0 then
		lv = "data"
		nt = rshift(N, 8)
	end
	return tilepath(lv, math.random(0, nt - 1), 256)
end

local function partialtile(data)
	-- A prefix of the right edge of level 0 (or of the data), as a
	-- client at an older tree size asks for it.
	local w = band(N, 255)
	if w == 0 then
		return fulltile(data and -1 or 0)
	end
	return tilepath(data and "data" or 0, rshift(N, 8), math.random(1, w))
end

function request()
	local r = math.random(100)
	local p
	if r <= 15 then
		p = "/latest"
	elseif r <= 55 then
		p = lookup()
	elseif r <= 75 then
		p = fulltile(math.random(0, levels))
	elseif r <= 85 then
		p = partialtile(false)
	elseif r <= 95 then
		p = fulltile(-1)
	else
		p = partialtile(true)
	end
	return wrk.format("GET", prefix .. p)
end

function response(status, headers, body)
	if status ~= 200 then
		bad = bad + 1
		statuses[status] = (statuses[status] or 0) + 1
		seen = ""
		for k, v in pairs(statuses) do
			seen = seen .. " " .. k .. "x" .. v
		end
	end
end

function done(summary, latency, requests)
	local nbad, seen = 0, ""
	for _, t in ipairs(threads) do
		nbad = nbad + t:get("bad")
		seen = seen .. t:get("seen")
	end
	local e = summary.errors
	io.write(string.format("load: requests %d, %.0f/s, non-200 %d%s, errors connect %d read %d write %d status %d timeout %d\n",
		summary.requests, summary.requests / (summary.duration / 1e6), nbad,
		nbad > 0 and " (status x count:" .. seen .. ")" or "",
		e.connect, e.read, e.write, e.status, e.timeout))
	io.write("load: latency ms")
	for _, p in ipairs({50, 90, 99, 99.9}) do
		io.write(string.format(" p%g %.2f", p, latency:percentile(p) / 1000))
	end
	io.write(string.format(" max %.2f\n", latency.max / 1000))
end
