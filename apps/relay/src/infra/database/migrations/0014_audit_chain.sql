CREATE TABLE "audit_chain_head" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"pruned_through_seq" bigint DEFAULT 0 NOT NULL,
	"pruned_through_hash" text NOT NULL,
	"legacy_through_id" bigint,
	CONSTRAINT "audit_chain_head_one_row" CHECK ("audit_chain_head"."id" = 1)
);
--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "patient_key" text;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "seq" bigint;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "prev_hash" text;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "row_hash" text;--> statement-breakpoint
CREATE UNIQUE INDEX "audit_log_seq_idx" ON "audit_log" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "audit_log_patient_key_idx" ON "audit_log" USING btree ("patient_key","id");--> statement-breakpoint
-- The chain starts from the genesis hash (64 zeros). Rows written before this migration are
-- chained once, in id order, by the relay on its first write (AuditRepository), which hashes
-- them exactly as it hashes new rows; rows written around the chain later are never chained.
INSERT INTO "audit_chain_head" ("id", "seq", "hash", "pruned_through_seq", "pruned_through_hash", "legacy_through_id")
SELECT 1, 0, repeat('0', 64), 0, repeat('0', 64), max("id") FROM "audit_log";
