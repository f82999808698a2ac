// GET /dashboard (the page) and GET /dashboard/data (what it polls).
import { Controller, Get, Header, Query, Req } from '@nestjs/common';
import type { Request } from 'express';
import type { DashboardData } from '../dashboard/dashboard-data';
import { renderDashboardPage } from '../dashboard/dashboard-page';
import { parseSince } from './lag.controller';
import { LagService } from './lag.service';

@Controller('dashboard')
export class DashboardController {
  constructor(private readonly lag: LagService) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  page(@Req() request: Request): string {
    // Derived from the request so the page works under any global prefix or proxy path.
    const path = `${request.baseUrl}${request.path}`.replace(/\/+$/, '');
    return renderDashboardPage({ dataUrl: `${path}/data`, ...this.lag.pageSettings() });
  }

  @Get('data')
  @Header('Cache-Control', 'no-store')
  data(@Query('since') since?: string): Promise<DashboardData> {
    return this.lag.dashboardData(parseSince(since));
  }
}
