import { ValidationError } from "./errors";

/** When and how many backups to keep. */
export interface BackupPolicy {
  /** Cron schedule. @default "17 3 * * *" */
  schedule?: string;
  /** Backups kept; older ones are deleted by the job itself (F20). @default 7 */
  retain?: number;
  /** Storage class of the backup volume. */
  storageClass: string;
  /** @default "20Gi" */
  size?: string;
}

export function validateBackupPolicy(p: BackupPolicy): ValidationError[] {
  const problems: ValidationError[] = [];
  const retain = p.retain ?? 7;
  if (!Number.isInteger(retain) || retain < 1 || retain > 365) {
    problems.push(new ValidationError("backup.retain", `must be an integer from 1 to 365, got ${retain}`));
  }
  const schedule = p.schedule ?? "17 3 * * *";
  if (schedule.trim().split(/\s+/).length !== 5) {
    problems.push(new ValidationError("backup.schedule", `"${schedule}" is not a 5-field cron expression`));
  }
  if (!p.storageClass?.trim()) problems.push(new ValidationError("backup.storageClass", "is required"));
  return problems;
}
