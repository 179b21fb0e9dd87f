-- admit.lua: wrk script for tests/bench.sh's admission rows.
--   wrk -tT ... -s tests/admit.lua URL -- FILE T
-- FILE lists lookup paths, one a line, of module versions the log does
-- not hold yet; thread k of T (from 0) asks for lines k, k+T, k+2T, ...,
-- each once; then its connections fall silent until the caller, who
-- times the run by the log's tree size, stops wrk.

local threads = {}

function setup(thread)
	thread:set("id", #threads)
	table.insert(threads, thread)
end

function init(args)
	local nthreads = tonumber(args[2])
	paths = {}
	local n = 0
	for line in io.lines(args[1]) do
		if n % nthreads == id then
			table.insert(paths, line)
		end
		n = n + 1
	end
	reserved = 0	-- paths promised to a connection by delay()
	sent = 0	-- paths made into requests
end

-- wrk asks before each request of a connection: a path is reserved
-- now, or the connection waits (an hour: until wrk is stopped).
function delay()
	if reserved >= #paths then
		return 3600000
	end
	reserved = reserved + 1
	return 0
end

-- A call that delay() did not precede is wrk's own check of the script
-- (or a reconnection): it gets a request that admits nothing.
function request()
	if sent >= reserved then
		return wrk.format(nil, "/latest")
	end
	sent = sent + 1
	return wrk.format(nil, paths[sent])
end
