import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';

@Module({
  // No terminus log line per failed check: with Redis down, every probe (each second from a
  // dashboard, each few seconds from an orchestrator) would log one. The cache module already
  // logs store errors and breaker changes, rate-limited.
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
})
export class HealthModule {}
