CREATE TABLE "hospital_policies" (
	"hospital_id" text PRIMARY KEY NOT NULL,
	"deadlines" jsonb NOT NULL,
	"at_deadline" text NOT NULL,
	"overflow_hospital_id" text,
	"updated_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "phrases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"hospital_id" text NOT NULL,
	"text" text NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "deadline_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "deadline_alerted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "diagnoses" ADD COLUMN "hospital_id" text;--> statement-breakpoint
ALTER TABLE "hospital_policies" ADD CONSTRAINT "hospital_policies_hospital_id_facilities_id_fk" FOREIGN KEY ("hospital_id") REFERENCES "public"."facilities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hospital_policies" ADD CONSTRAINT "hospital_policies_overflow_hospital_id_facilities_id_fk" FOREIGN KEY ("overflow_hospital_id") REFERENCES "public"."facilities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hospital_policies" ADD CONSTRAINT "hospital_policies_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "phrases" ADD CONSTRAINT "phrases_hospital_id_facilities_id_fk" FOREIGN KEY ("hospital_id") REFERENCES "public"."facilities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "phrases" ADD CONSTRAINT "phrases_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "phrases_hospital_text_uq" ON "phrases" USING btree ("hospital_id","text");--> statement-breakpoint
ALTER TABLE "diagnoses" ADD CONSTRAINT "diagnoses_hospital_id_facilities_id_fk" FOREIGN KEY ("hospital_id") REFERENCES "public"."facilities"("id") ON DELETE no action ON UPDATE no action;