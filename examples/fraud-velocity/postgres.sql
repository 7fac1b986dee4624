-- The table job-postgres.yaml upserts into: one row per customer and 5-minute window, the result's fields as columns.
CREATE TABLE IF NOT EXISTS customer_velocity (
  customer_id  text             NOT NULL,
  window_start timestamptz      NOT NULL,
  window_end   timestamptz      NOT NULL,
  txn_count    bigint           NOT NULL,
  txn_sum      double precision NOT NULL,
  PRIMARY KEY (customer_id, window_start)
);
