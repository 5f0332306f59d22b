"use strict";
/**
 * The test daemon that tests/test_max_for_live.py starts (python -m ddbridge serve with a tiny
 * model that has a loop network; a second one whose model has none), described through environment
 * variables. Without them the daemon tests are skipped.
 */

const env = process.env;

const daemon = env.DDBRIDGE_OSC_PORT
  ? {
      port: Number(env.DDBRIDGE_OSC_PORT),
      projectDir: env.DDBRIDGE_PROJECT_DIR, // an existing folder the daemon may write into
      defaultProjectDir: env.DDBRIDGE_DEFAULT_PROJECT_DIR, // the daemon's own project folder
      categories: (env.DDBRIDGE_CATEGORIES || "").split(",").filter(Boolean), // the model's categories
      vectorVariables: JSON.parse(env.DDBRIDGE_VECTOR_VARIABLES || "{}"),
      remote: JSON.parse(env.DDBRIDGE_REMOTE_TEST || "{}"), // endpoint (CURVE), cli, allowedProfile, strangerProfile
      plainPort: Number(env.DDBRIDGE_PLAIN_OSC_PORT), // a second daemon, whose model has no loop network
    }
  : null;

/** Options for `test()`: skip without the daemon. */
const needsDaemon = daemon ? {} : { skip: "needs the test daemon: run pytest tests/test_max_for_live.py" };

module.exports = { daemon, needsDaemon };
