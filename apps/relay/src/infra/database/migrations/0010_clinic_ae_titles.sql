CREATE TABLE "clinic_ae_titles" (
	"ae_title" text PRIMARY KEY NOT NULL,
	"clinic_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "clinic_ae_titles" ADD CONSTRAINT "clinic_ae_titles_clinic_id_facilities_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."facilities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "clinic_ae_titles_clinic_idx" ON "clinic_ae_titles" USING btree ("clinic_id");