ALTER TABLE "devices" ADD COLUMN "firmware" text;--> statement-breakpoint
CREATE INDEX "recordings_device_idx" ON "recordings" USING btree ("device_id","created_at");