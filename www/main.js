// main.js - start the staff app once every page script has registered.
"use strict";
window.Okuru.start();
