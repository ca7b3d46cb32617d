CREATE TABLE "instances" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"study_id" uuid NOT NULL,
	"series_id" uuid NOT NULL,
	"clinic_id" text NOT NULL,
	"sop_instance_uid" text NOT NULL,
	"sop_class_uid" text NOT NULL,
	"instance_number" integer,
	"transfer_syntax_uid" text NOT NULL,
	"sha256" text NOT NULL,
	"size_bytes" integer NOT NULL,
	"rows" integer,
	"columns" integer,
	"frames" integer DEFAULT 1 NOT NULL,
	"image" jsonb,
	"pixel_data" jsonb,
	"metadata" jsonb NOT NULL,
	"received_via" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "series" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"study_id" uuid NOT NULL,
	"series_instance_uid" text NOT NULL,
	"modality" text,
	"series_number" integer,
	"description" text,
	"body_part" text,
	"instance_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "studies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"study_instance_uid" text NOT NULL,
	"clinic_id" text NOT NULL,
	"patient_id" text,
	"patient_name" text,
	"patient_sex" text,
	"patient_birth_date" text,
	"study_date" text,
	"study_time" text,
	"description" text,
	"accession_number" text,
	"modalities" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"series_count" integer DEFAULT 0 NOT NULL,
	"instance_count" integer DEFAULT 0 NOT NULL,
	"state" text DEFAULT 'receiving' NOT NULL,
	"last_instance_at" timestamp with time zone NOT NULL,
	"case_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_series_id_series_id_fk" FOREIGN KEY ("series_id") REFERENCES "public"."series"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_clinic_id_facilities_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."facilities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "series" ADD CONSTRAINT "series_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "studies" ADD CONSTRAINT "studies_clinic_id_facilities_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."facilities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "studies" ADD CONSTRAINT "studies_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "instances_clinic_sop_uq" ON "instances" USING btree ("clinic_id","sop_instance_uid");--> statement-breakpoint
CREATE INDEX "instances_series_idx" ON "instances" USING btree ("series_id","instance_number");--> statement-breakpoint
CREATE INDEX "instances_study_idx" ON "instances" USING btree ("study_id");--> statement-breakpoint
CREATE UNIQUE INDEX "series_study_uid_uq" ON "series" USING btree ("study_id","series_instance_uid");--> statement-breakpoint
CREATE UNIQUE INDEX "studies_clinic_uid_uq" ON "studies" USING btree ("clinic_id","study_instance_uid");--> statement-breakpoint
CREATE UNIQUE INDEX "studies_case_uq" ON "studies" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "studies_uid_idx" ON "studies" USING btree ("study_instance_uid");