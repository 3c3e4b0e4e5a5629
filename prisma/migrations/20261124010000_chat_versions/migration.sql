-- Chat row versions and timestamps come from the database, not app clocks.
-- An UPDATE that sets updated_at (to any value) asks for a "touch": the row gets
-- a strictly increasing DB timestamp, so events from several processes order
-- correctly under the clients' timestamp guard even with skewed app clocks.
-- Millisecond steps: JavaScript dates hold milliseconds, so the value a client
-- sees is exactly the stored one and two touches of a chat never compare equal.
-- Every UPDATE except a pure heartbeat bumps version.
CREATE OR REPLACE FUNCTION chats_touch() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.created_at := date_trunc('milliseconds', NEW.created_at);
    NEW.updated_at := date_trunc('milliseconds', NEW.updated_at);
    RETURN NEW;
  END IF;
  IF NEW.updated_at IS DISTINCT FROM OLD.updated_at THEN
    NEW.updated_at := GREATEST(date_trunc('milliseconds', clock_timestamp()), OLD.updated_at + interval '1 millisecond');
  END IF;
  IF NEW.heartbeat_at IS NOT DISTINCT FROM OLD.heartbeat_at OR NEW.status IS DISTINCT FROM OLD.status THEN
    NEW.version := OLD.version + 1;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER chats_touch BEFORE INSERT OR UPDATE ON chats FOR EACH ROW EXECUTE FUNCTION chats_touch();
