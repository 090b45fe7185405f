import { Module } from '@nestjs/common';
import { CacheModule } from '@org/cache-nestjs';
import { OrdersController } from './orders.controller.js';
import { ordersDomain } from './orders.domain.js';
import { OrdersService } from './orders.service.js';

@Module({
  imports: [CacheModule.forFeature([ordersDomain])],
  controllers: [OrdersController],
  providers: [OrdersService],
})
export class OrdersModule {}
