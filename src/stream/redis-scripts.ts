// The Lua scripts behind the Redis stream bus. Each runs atomically, so a delta is
// stored and published in one step and every subscriber's order is the apply order.
//
// Per chat (keys share the `{chatId}` hash tag so a cluster keeps them on one slot):
//   <prefix>:stream:{chatId}:state  hash: turn, open (fencing token of the openTurn call),
//                                   seq (last published), applied (snapshot seq), base,
//                                   ended, bytes, compacted (list length after the last
//                                   compaction), overflow
//   <prefix>:stream:{chatId}:parts  list: the partial's parts as JSON (see partial.ts)
//   <prefix>:stream:{chatId}:live   pub/sub channel: envelopes as JSON
// Per bus instance: <prefix>:stream:bus:<uuid>, the channel of its snapshot markers.
// Both keys carry the idle TTL while the turn runs and the ended TTL after turn-end.

/**
 * KEYS: state, parts. ARGV: turnId, openId, baseHistoryVersion, idleTtlMs.
 * Returns "ok", or "reused" when turnId is already the chat's turn.
 */
export const OPEN_TURN_LUA = `
if redis.call('HGET', KEYS[1], 'turn') == ARGV[1] then return 'reused' end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'turn', ARGV[1], 'open', ARGV[2], 'seq', 0, 'applied', 0, 'base', ARGV[3],
  'ended', 0, 'bytes', 0, 'compacted', 0, 'overflow', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 'ok'
`;

/**
 * KEYS: state, parts. ARGV: openId, seq, envelopeJson, partOffset (bytes before the
 * part inside envelopeJson), deltaType, historyVersion (step-finish, else ''), channel,
 * maxParts, maxBytes, idleTtlMs, endedTtlMs.
 *
 * Returns "ok" (applied and published), "duplicate" (this seq already landed: a re-send
 * after a reconnect; nothing happens), or a rejection: "replaced" (another openTurn owns
 * the chat, or the state is gone), "ended", "out-of-order" (seq is not last + 1).
 */
export const PUBLISH_LUA = `
local function compact(key)
  local items = redis.call('LRANGE', key, 0, -1)
  local decoded = {}
  local called = {}
  for i = 1, #items do
    local ok, p = pcall(cjson.decode, items[i])
    if ok and type(p) == 'table' then
      decoded[i] = p
      if p.type == 'tool-call' and type(p.tool_call_id) == 'string' then called[p.tool_call_id] = true end
    end
  end
  local out = {}
  local runType = nil
  local run = {}
  local function flush()
    if runType then
      out[#out + 1] = '{"type":"' .. runType .. '","text":' .. cjson.encode(table.concat(run)) .. '}'
    end
    runType = nil
    run = {}
  end
  for i = 1, #items do
    local p = decoded[i]
    local t = p and p.type
    if (t == 'text-delta' or t == 'reasoning-delta') and type(p.text) == 'string' then
      if runType ~= t then
        flush()
        runType = t
      end
      run[#run + 1] = p.text
    elseif t == 'tool-call-delta' and type(p.tool_call_id) == 'string' and called[p.tool_call_id] then
      -- superseded by its tool-call; dropped without ending the text run
    else
      flush()
      out[#out + 1] = items[i]
    end
  end
  flush()
  redis.call('DEL', key)
  local bytes = 0
  for i = 1, #out, 500 do
    redis.call('RPUSH', key, unpack(out, i, math.min(i + 499, #out)))
  end
  for i = 1, #out do bytes = bytes + #out[i] end
  return #out, bytes
end

local st = redis.call('HMGET', KEYS[1], 'open', 'seq', 'ended', 'overflow', 'bytes', 'compacted')
if st[1] ~= ARGV[1] then return 'replaced' end
local seq = tonumber(ARGV[2])
local last = tonumber(st[2])
if seq <= last then return 'duplicate' end
if st[3] == '1' then return 'ended' end
if seq ~= last + 1 then return 'out-of-order' end

local kind = ARGV[5]
local ttl = ARGV[10]
if kind == 'step-finish' then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'seq', seq, 'applied', seq, 'base', ARGV[6], 'bytes', 0, 'compacted', 0, 'overflow', 0)
elseif kind == 'retry' then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'seq', seq, 'applied', seq, 'bytes', 0, 'compacted', 0, 'overflow', 0)
elseif kind == 'turn-end' then
  if st[4] == '1' then
    redis.call('HSET', KEYS[1], 'seq', seq, 'ended', 1)
  else
    redis.call('HSET', KEYS[1], 'seq', seq, 'applied', seq, 'ended', 1)
  end
  ttl = ARGV[11]
elseif st[4] == '1' then
  redis.call('HSET', KEYS[1], 'seq', seq)
else
  local env = ARGV[3]
  local part = string.sub(env, tonumber(ARGV[4]) + 1, -2)
  local size = #part
  local maxParts = tonumber(ARGV[8])
  local maxBytes = tonumber(ARGV[9])
  local count = redis.call('LLEN', KEYS[2])
  local bytes = tonumber(st[5])
  if (count + 1 > maxParts or bytes + size > maxBytes) and count > tonumber(st[6]) then
    count, bytes = compact(KEYS[2])
    redis.call('HSET', KEYS[1], 'compacted', count, 'bytes', bytes)
  end
  if count + 1 > maxParts or bytes + size > maxBytes then
    redis.call('HSET', KEYS[1], 'seq', seq, 'overflow', 1)
  else
    redis.call('RPUSH', KEYS[2], part)
    redis.call('HSET', KEYS[1], 'seq', seq, 'applied', seq, 'bytes', bytes + size)
  end
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PUBLISH', ARGV[7], ARGV[3])
return 'ok'
`;

/**
 * KEYS: state, parts. ARGV: markerChannel, marker ('' for none). Returns nil, or
 * { turn, applied, base, ended, parts[] } read in one step so the parts match the seq.
 * The marker is PUBLISHed in the same step: on the reading bus's subscriber connection it
 * arrives after every envelope published before the read and before any published after.
 */
export const SNAPSHOT_LUA = `
local st = redis.call('HMGET', KEYS[1], 'turn', 'applied', 'base', 'ended')
local parts = nil
if st[1] then parts = redis.call('LRANGE', KEYS[2], 0, -1) end
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
if not st[1] then return nil end
return { st[1], st[2], st[3], st[4], parts }
`;
