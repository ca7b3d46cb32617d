CREATE TABLE "exam_orders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"order_number" text NOT NULL,
	"clinic_id" text NOT NULL,
	"patient_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"modality" text,
	"body_part" text,
	"indication" text NOT NULL,
	"urgency" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"accession_number" text,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"recorded_at" timestamp with time zone,
	CONSTRAINT "exam_orders_order_number_unique" UNIQUE("order_number"),
	CONSTRAINT "exam_orders_accession_number_unique" UNIQUE("accession_number")
);
--> statement-breakpoint
CREATE TABLE "patients" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"identifier_key" text NOT NULL,
	"identifier_sealed" text NOT NULL,
	"identifier_masked" text NOT NULL,
	"document_type" text NOT NULL,
	"name" text NOT NULL,
	"sex" text NOT NULL,
	"birth_date" date,
	"registered_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "patients_identifier_key_unique" UNIQUE("identifier_key")
);
--> statement-breakpoint
CREATE TABLE "repeat_exam_warnings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patient_id" uuid NOT NULL,
	"order_id" uuid,
	"clinic_id" text NOT NULL,
	"kind" text NOT NULL,
	"earlier_case_ids" jsonb NOT NULL,
	"warned_at" timestamp with time zone DEFAULT now() NOT NULL,
	"went_ahead" boolean,
	"decided_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "patient_id" uuid;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "order_id" uuid;--> statement-breakpoint
ALTER TABLE "exam_orders" ADD CONSTRAINT "exam_orders_clinic_id_facilities_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."facilities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exam_orders" ADD CONSTRAINT "exam_orders_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exam_orders" ADD CONSTRAINT "exam_orders_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patients" ADD CONSTRAINT "patients_registered_by_facilities_id_fk" FOREIGN KEY ("registered_by") REFERENCES "public"."facilities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repeat_exam_warnings" ADD CONSTRAINT "repeat_exam_warnings_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repeat_exam_warnings" ADD CONSTRAINT "repeat_exam_warnings_order_id_exam_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."exam_orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repeat_exam_warnings" ADD CONSTRAINT "repeat_exam_warnings_clinic_id_facilities_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."facilities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "exam_orders_clinic_open_idx" ON "exam_orders" USING btree ("clinic_id","created_at") WHERE "exam_orders"."status" = 'open';--> statement-breakpoint
CREATE INDEX "exam_orders_patient_idx" ON "exam_orders" USING btree ("patient_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "repeat_exam_warnings_order_uq" ON "repeat_exam_warnings" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "repeat_exam_warnings_at_idx" ON "repeat_exam_warnings" USING btree ("warned_at");--> statement-breakpoint
ALTER TABLE "cases" ADD CONSTRAINT "cases_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cases" ADD CONSTRAINT "cases_order_id_exam_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."exam_orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "cases_patient_idx" ON "cases" USING btree ("patient_id","created_at");--> statement-breakpoint
CREATE INDEX "cases_order_idx" ON "cases" USING btree ("order_id");