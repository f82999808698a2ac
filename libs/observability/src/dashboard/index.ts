export * from './dashboard-data';
export * from './dashboard-page';
export * from './histogram-quantile';
export * from './invalidator-figures';
export * from './invalidator-scraper';
export * from './prometheus-text';
