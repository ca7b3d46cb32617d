ALTER TABLE "clinic_events" ADD COLUMN "device_id" text;--> statement-breakpoint
ALTER TABLE "clinic_events" ADD COLUMN "device_received_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "clinic_events" ADD CONSTRAINT "clinic_events_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "clinic_events_device_pending_idx" ON "clinic_events" USING btree ("device_id","id") WHERE "clinic_events"."device_id" is not null and "clinic_events"."device_received_at" is null;