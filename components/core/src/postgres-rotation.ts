import * as fs from "fs";
import * as path from "path";
import { ConfigFiles } from "./volumes";

/** Shell scripts ship in the package's `sh/` folder (package.json `files`), read from `dist/` or `src/` alike. */
const shDir = path.join(__dirname, "..", "sh");
const scriptName = "postgres-adopt-passwords.sh";
const mountPath = "/etc/keel/postgres-rotation";

/** What a PostgreSQL container needs to adopt rotated passwords on an existing data directory. */
export interface PasswordAdoption {
  command: string[];
  env: Record<string, string>;
  configFiles: ConfigFiles[];
}

/**
 * After a rotation (`rotation` > 0) the server sets each role's password from the environment before it
 * starts (sh/postgres-adopt-passwords.sh), since the image applies them only at initdb. At rotation 0
 * nothing changes: a stack that never rotated keeps its pods as they are. `roles` maps each role to the
 * variable holding its password.
 */
export function passwordAdoption(
  rotation: number,
  roles: Record<string, string>,
): PasswordAdoption | undefined {
  if (rotation === 0) return undefined;
  return {
    command: ["bash", `${mountPath}/${scriptName}`],
    env: {
      KEEL_ADOPT_ROLES: Object.entries(roles)
        .map(([role, variable]) => `${role}=${variable}`)
        .join(" "),
    },
    configFiles: [
      {
        name: "rotation",
        mountPath,
        files: { [scriptName]: fs.readFileSync(path.join(shDir, scriptName), "utf8") },
      },
    ],
  };
}
