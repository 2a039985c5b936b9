-- Issue 14: from this release the SQLite store keeps each delivery's body as an LZ4 frame
-- (bot/store/bodies.py), about a fifth of its size. No table changes. This version marks the
-- database, so an older Triad (which would read a frame as a body that is not JSON, and
-- fail its job) refuses to start on it, as on any schema newer than it knows. Bodies stored
-- before stay as they are and still read back.
SELECT 1
