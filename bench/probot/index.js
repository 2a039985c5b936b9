// Probot's side of the ingest benchmark: every delivery is verified and dispatched to an empty
// handler (Probot stores nothing before it answers).
export default (app) => {
  app.onAny(async () => {});
};
