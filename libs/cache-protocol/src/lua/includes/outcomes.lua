-- Outcome codes shared by invalidate, warm and the batch script (mapped to EffectOutcome in
-- libs/cache-protocol/src/outcomes.ts; keep both in step).
local DELETED = 1
local TOMBSTONED = 2
local WARMED = 3
local SKIPPED_OLDER = 4
