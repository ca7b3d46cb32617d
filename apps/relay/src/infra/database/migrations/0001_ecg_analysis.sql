ALTER TABLE "cases" ADD COLUMN "return_reason" text;--> statement-breakpoint
ALTER TABLE "diagnoses" ADD COLUMN "measurement_review" jsonb;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "analysis" jsonb;