// Compile-only check of nudge.d.ts (not run):
//   npx -p typescript@5 tsc --noEmit --strict --lib es2020,dom --module nodenext --moduleResolution nodenext test-support/types-check.ts
import { createNudge, type NudgeError, type Prompt } from "@nudge/browser";

const nudge = createNudge({
  endpoint: "https://nudge.example.com",
  getToken: async () => "token",
  timeoutMs: 1000,
  onError: (error: NudgeError) => console.log(error.kind, error.status),
});
createNudge({ endpoint: "/nudge", token: "token" });
// @ts-expect-error: a token or getToken is required
createNudge({ endpoint: "/nudge" });

async function headless(): Promise<void> {
  const prompts: Prompt[] = await nudge.getPrompts({ placement: "members" });
  for (const p of prompts) {
    const label: string | undefined = p.cta?.label;
    const accepted: boolean = await nudge.report(p.id, "shown");
    console.log(label, accepted, p.style === "modal");
  }
  // @ts-expect-error: not an event type
  await nudge.report("id", "closed");
}

const handle = nudge.mount(document.body, { placement: "members", limit: 2, closeLabel: "Close", visibleRatio: 1 });
void handle.refresh().then(() => handle.destroy());
void headless();
