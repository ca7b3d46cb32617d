DROP INDEX "outbox_pending_idx";--> statement-breakpoint
-- Rows already dispatched have done their work; from now on a delivered row is deleted.
DELETE FROM "outbox" WHERE "dispatched_at" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "next_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "parked_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "outbox_waiting_idx" ON "outbox" USING btree ("id") WHERE "outbox"."parked_at" is null;--> statement-breakpoint
ALTER TABLE "outbox" DROP COLUMN "dispatched_at";