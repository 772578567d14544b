// The types of /js/enums.js, a module the app generates from the domain's zod enums and serves (src/web/enums.ts).
import type { PAGE_ENUMS } from '../../src/web/enums';

export declare const CLOUDS: typeof PAGE_ENUMS.CLOUDS;
export declare const AUTH_KINDS: typeof PAGE_ENUMS.AUTH_KINDS;
export declare const RUN_TRIGGERS: typeof PAGE_ENUMS.RUN_TRIGGERS;
export declare const RUN_STATUSES: typeof PAGE_ENUMS.RUN_STATUSES;
export declare const LICENSE_STATUSES: typeof PAGE_ENUMS.LICENSE_STATUSES;
export declare const ALERT_RULES: typeof PAGE_ENUMS.ALERT_RULES;
export declare const SEVERITIES: typeof PAGE_ENUMS.SEVERITIES;
export declare const CHANNEL_KINDS: typeof PAGE_ENUMS.CHANNEL_KINDS;
