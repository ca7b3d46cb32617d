CREATE TABLE "clinic_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"clinic_id" text NOT NULL,
	"case_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" uuid
);
--> statement-breakpoint
ALTER TABLE "clinic_events" ADD CONSTRAINT "clinic_events_clinic_id_facilities_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."facilities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clinic_events" ADD CONSTRAINT "clinic_events_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clinic_events" ADD CONSTRAINT "clinic_events_acknowledged_by_users_id_fk" FOREIGN KEY ("acknowledged_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "clinic_events_case_kind_uq" ON "clinic_events" USING btree ("case_id","kind");--> statement-breakpoint
CREATE INDEX "clinic_events_pending_idx" ON "clinic_events" USING btree ("clinic_id","id") WHERE "clinic_events"."acknowledged_at" is null;