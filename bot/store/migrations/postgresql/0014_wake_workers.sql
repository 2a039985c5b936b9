-- Issue 14: a worker in another process hears of a job queued to run now from a notification
-- on channel `triad_jobs` (the job's id), not at its next poll of the queue (a webhook's job
-- waited half a second on average behind the poll). A job queued to run later (a retry's
-- backoff) is found by the poll once it is due. Notifications are sent at commit.
CREATE FUNCTION triad_wake_workers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('triad_jobs', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_queued AFTER INSERT ON jobs FOR EACH ROW
    WHEN (NEW.state = 'queued' AND NEW.run_at <= extract(epoch FROM clock_timestamp()) + 1)
    EXECUTE FUNCTION triad_wake_workers();
CREATE TRIGGER jobs_queued_again AFTER UPDATE OF state ON jobs FOR EACH ROW
    WHEN (NEW.state = 'queued' AND OLD.state <> 'queued'
          AND NEW.run_at <= extract(epoch FROM clock_timestamp()) + 1)
    EXECUTE FUNCTION triad_wake_workers();
